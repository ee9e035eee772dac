"""The flow answer is written from plain data (metrics/flow.py): byte for byte what its
response model, `FlowMetrics`, writes, from the event log and from written snapshots, with and
without `q`."""

from __future__ import annotations

from fastapi import FastAPI
from httpx import AsyncClient, Response

from takt.core.db import Database
from takt.core.time import clock_at
from takt.metrics.schemas import FlowMetrics
from tests.metrics.test_flow import FLOW, NOW, PERIOD, history
from tests.metrics.test_flow_snapshots import sweep
from tests.support import team


def _as_model_writes(response: Response) -> None:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    written = FlowMetrics.model_validate_json(response.content).model_dump_json(by_alias=True)
    assert written.encode() == response.content


async def test_the_flow_answer_is_what_its_model_writes(
    app: FastAPI, db: Database, client: AsyncClient
) -> None:
    ada = (await team(app, db))["ada"]
    await history(client, ada)
    asked = [PERIOD, {**PERIOD, "q": "type:bug"}, {"from": "2026-10-28"}, {}]

    async def answers() -> list[bytes]:
        found = []
        for params in asked:
            with clock_at(NOW):
                response = await client.get(FLOW, params=params, headers=ada.headers)
            _as_model_writes(response)
            found.append(response.content)
        return found

    live = await answers()
    whole = FlowMetrics.model_validate_json(live[0])
    # Every part of the answer holds something, so each is compared, not only empty lists.
    assert whole.cycle_time.points
    assert whole.work_item_age.items
    assert whole.throughput.days
    assert whole.cumulative_flow
    assert whole.lead_time.p50 is not None
    assert b'"from":"2026-11-02"' in live[0]
    assert b'"q":"type:bug"' in live[1]
    await sweep(app, db, NOW)
    assert await answers() == live  # from the written rows: the same bytes
