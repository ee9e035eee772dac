"""The reveal: the spread of the cards and the calibration of the scale, worked by hand."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI
from httpx import AsyncClient

from takt.core.db import Database
from takt.core.time import clock_at
from tests.estimation.kit import (
    BASE_MOMENT,
    act,
    finished_item,
    items,
    ok,
    poker_team,
    start,
    url,
    vote,
)
from tests.support import make_project, new_item

DAY = timedelta(days=1)


async def test_the_spread_of_the_cards(client: AsyncClient, app: FastAPI, db: Database) -> None:
    people = await poker_team(app, db, ("dan", "eve"))
    ada = people["ada"]
    keys = await items(client, ada, 2)
    session = await start(client, ada, keys)
    for who, card in (("ada", "3"), ("bob", "5"), ("cal", "5"), ("dan", "?"), ("eve", "8")):
        ok(await vote(client, people[who], session, keys[0], card))
    revealed = ok(await act(client, ada, session, keys[0], "reveal"))
    # Points 3, 5, 5, 8 and one "?": the median is the 2nd of 4 (nearest rank), the mode 5
    # was played by 2 of the 5 voters.
    assert revealed["rounds"][0]["spread"] == {
        "votes": 5,
        "unsure": 1,
        "min": 3,
        "max": 8,
        "median": 5,
        "mode": 5,
        "agreement": 0.4,
    }
    ok(await act(client, ada, session, keys[0], "finalize", estimate=5))
    # A tie between 3 and 8 takes the larger as the mode; the median is the 2nd of 4.
    for who, card in (("ada", "3"), ("bob", "3"), ("cal", "8"), ("dan", "8")):
        ok(await vote(client, people[who], session, keys[1], card))
    revealed = ok(await act(client, ada, session, keys[1], "reveal"))
    spread = revealed["rounds"][0]["spread"]
    assert (spread["median"], spread["mode"], spread["agreement"]) == (3, 8, 0.5)


async def test_only_unsure_cards_have_no_spread(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await poker_team(app, db)
    keys = await items(client, people["ada"], 1)
    session = await start(client, people["ada"], keys)
    ok(await vote(client, people["bob"], session, keys[0], "?"))
    spread = ok(await act(client, people["ada"], session, keys[0], "reveal"))["rounds"][0]["spread"]
    assert spread == {
        "votes": 1,
        "unsure": 1,
        "min": None,
        "max": None,
        "median": None,
        "mode": None,
        "agreement": None,
    }


async def test_calibration_shows_past_cycle_times_per_estimate(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await poker_team(app, db)
    ada = people["ada"]
    at = BASE_MOMENT
    finished: dict[float, list[float]] = {
        2: [1, 2, 3, 4],  # median: 2nd of 4 → 2 days; p85: 4th (⌈3.4⌉) → 4 days
        3: [2.5, 3, 6],  # median: 2nd → 3; p85: 3rd (⌈2.55⌉) → 6
        5: [5, 6, 7, 8, 9],  # median: 3rd (⌈2.5⌉) → 7; p85: 5th (⌈4.25⌉) → 9
        8: [10, 12],  # too few to say whether it overlaps
    }
    for estimate, days in finished.items():
        for n, cycle in enumerate(days):
            await finished_item(client, ada, estimate, cycle * DAY, at=at + n * DAY)
    # What doesn't count: an item in the trash, one still in progress, one done without ever
    # being started, one reopened, one of another project.
    trashed = await finished_item(client, ada, 3, 30 * DAY, at=at)
    assert (await client.delete(f"/api/v1/items/{trashed}", headers=ada.headers)).status_code == 204
    reopened = await finished_item(client, ada, 3, 30 * DAY, at=at)
    ok(
        await client.patch(
            f"/api/v1/items/{reopened}", json={"status": "In Progress"}, headers=ada.headers
        )
    )
    with clock_at(at):
        started = (await new_item(client, ada, estimate=3))["key"]
        ok(
            await client.patch(
                f"/api/v1/items/{started}", json={"status": "In Progress"}, headers=ada.headers
            )
        )
        skipped = (await new_item(client, ada, estimate=3))["key"]
    with clock_at(at + 30 * DAY):
        ok(
            await client.patch(
                f"/api/v1/items/{skipped}", json={"status": "Done"}, headers=ada.headers
            )
        )
    await make_project(db, ada, "OTH")
    await finished_item_elsewhere(client, ada)

    keys = await items(client, ada, 1)
    session = await start(client, ada, keys)
    ok(await vote(client, people["bob"], session, keys[0], "3"))
    revealed = ok(await act(client, ada, session, keys[0], "reveal"))
    calibration = {c["points"]: c for c in revealed["rounds"][0]["calibration"]}
    assert [c["points"] for c in revealed["rounds"][0]["calibration"]] == [
        0,
        0.5,
        1,
        2,
        3,
        5,
        8,
        13,
        20,
        40,
        100,
    ]
    shown = {
        points: (
            c["finished_items"],
            c["median_cycle_days"],
            c["p85_cycle_days"],
            c["overlaps_next"],
        )
        for points, c in calibration.items()
        if c["finished_items"]
    }
    assert shown == {
        2: (4, 2.0, 4.0, True),  # 2's p85 (4 days) reaches 3's median (3 days)
        3: (3, 3.0, 6.0, False),  # 3's p85 (6) is below 5's median (7)
        5: (5, 7.0, 9.0, None),  # 8 has too few items to compare with
        8: (2, 10.0, 12.0, None),
    }
    assert calibration[13] == {
        "points": 13,
        "label": "13",
        "finished_items": 0,
        "median_cycle_days": None,
        "p85_cycle_days": None,
        "overlaps_next": None,
    }
    # The calibration shown is what stood at the reveal: items finished later don't move it.
    await finished_item(client, ada, 2, 40 * DAY, at=at)
    again = ok(await client.get(url(session), headers=people["vic"].headers))
    assert again["current"]["rounds"][0]["calibration"] == revealed["rounds"][0]["calibration"]


async def finished_item_elsewhere(client: AsyncClient, ada: object) -> None:
    from tests.support import Account

    assert isinstance(ada, Account)
    with clock_at(BASE_MOMENT):
        key = (await new_item(client, ada, key="OTH", estimate=3))["key"]
        ok(
            await client.patch(
                f"/api/v1/items/{key}", json={"status": "In Progress"}, headers=ada.headers
            )
        )
    with clock_at(BASE_MOMENT + 40 * DAY):
        ok(await client.patch(f"/api/v1/items/{key}", json={"status": "Done"}, headers=ada.headers))


async def test_a_custom_deck_calibrates_its_own_cards(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await poker_team(app, db)
    ada = people["ada"]
    await finished_item(client, ada, 13, 2 * DAY, at=BASE_MOMENT)
    keys = await items(client, ada, 1)
    deck = [{"label": "small", "points": 2}, {"label": "large", "points": 13}]
    session = await start(client, ada, keys, scale="custom", cards=deck)
    ok(await vote(client, people["cal"], session, keys[0], "large"))
    calibration = ok(await act(client, ada, session, keys[0], "reveal"))["rounds"][0]["calibration"]
    assert [(c["label"], c["finished_items"], c["median_cycle_days"]) for c in calibration] == [
        ("small", 0, None),
        ("large", 1, 2.0),
    ]
