"""The DORA answer is written from plain data (metrics/dora.py): byte for byte what its
response model, `DoraMetrics`, writes, with and without a series and `as_of`."""

from __future__ import annotations

from fastapi import FastAPI
from httpx import AsyncClient, Response

from takt.core.db import Database
from takt.core.time import clock_at
from takt.metrics.schemas import DoraMetrics
from tests.metrics.test_dora import DORA, NOW, PERIOD, history
from tests.support import team


def _as_model_writes(response: Response) -> DoraMetrics:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    read = DoraMetrics.model_validate_json(response.content)
    assert read.model_dump_json(by_alias=True).encode() == response.content
    return read


async def test_the_dora_answer_is_what_its_model_writes(
    app: FastAPI, db: Database, client: AsyncClient
) -> None:
    ada = (await team(app, db))["ada"]
    await history(app, db, client, ada)
    asked = [
        PERIOD,
        {**PERIOD, "granularity": "week"},
        {**PERIOD, "granularity": "month", "as_of": "2026-11-06T16:15:00Z"},
        {"as_of": "2026-11-06", "from": "2026-11-02"},
        {"from": "2026-10-19", "to": "2026-10-25"},  # before the history: nothing in it
    ]
    read = []
    for params in asked:
        with clock_at(NOW):
            response = await client.get(DORA, params=params, headers=ada.headers)
        read.append(_as_model_writes(response))
    weekly = read[1]
    # The parts compared hold figures, medians and bands, not only zeros and nulls.
    assert weekly.series is not None
    assert len(weekly.series) == 2
    assert weekly.change_lead_time.median_hours is not None
    assert weekly.failed_deployment_recovery_time.band is not None
    assert read[4].deployment_frequency.successful == 0
