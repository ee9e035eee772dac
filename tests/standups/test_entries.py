"""Entries: one per member and stand-up day, editable (late after the cut-off), for
participants only, on stand-up days up to today, with answers that fit the config."""

from __future__ import annotations

from fastapi import FastAPI
from httpx import AsyncClient, Response
from sqlalchemy import func, select

from takt.core.db import Database
from takt.core.events import Event
from takt.core.time import clock_at
from takt.standups.models import StandupEntry
from tests.standups.kit import CONFIG, call, day_url, ok, submit, utc
from tests.support import team

# 2026-11-25 is a Wednesday; the project runs in UTC with the default 10:00 cut-off.
WEDNESDAY = "2026-11-25"


async def _entry_events(db: Database) -> list[Event]:
    async with db.transaction(write=False) as session:
        return list(
            await session.scalars(
                select(Event).where(Event.type == "standup.entry_submitted").order_by(Event.seq)
            )
        )


async def test_a_member_checks_in_and_edits_before_the_cut_off(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    bob = (await team(app, db))["bob"]
    first = await submit(
        client, bob, WEDNESDAY, at=utc(2026, 11, 25, 8), answers={"yesterday": "API-1"}
    )
    entry = ok(first)
    assert first.headers["ETag"] == '"v1"'
    assert entry["date"] == WEDNESDAY
    assert entry["user"]["username"] == "bob"
    assert entry["answers"] == {"yesterday": "API-1"}
    assert entry["late"] is False
    assert entry["blocked"] is False
    edited = ok(
        await submit(
            client,
            bob,
            WEDNESDAY,
            at=utc(2026, 11, 25, 9, 59),
            answers={"yesterday": "API-1", "today": "API-2"},
            blocked=True,
        )
    )
    assert edited["id"] == entry["id"]
    assert edited["version"] == 2
    assert edited["late"] is False
    assert edited["blocked"] is True
    assert edited["answers"] == {"yesterday": "API-1", "today": "API-2"}
    assert edited["submitted_at"] == entry["submitted_at"]
    events = await _entry_events(db)
    assert [e.data["edited"] for e in events] == [False, True]
    assert all(e.data["answers"] is None for e in events)  # answers are not shared by default
    assert events[0].actor_id == bob.id


async def test_an_edit_after_the_cut_off_is_kept_and_marked_late(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    bob = (await team(app, db))["bob"]
    ok(await submit(client, bob, WEDNESDAY, at=utc(2026, 11, 25, 9)))
    late = ok(
        await submit(
            client,
            bob,
            WEDNESDAY,
            at=utc(
                2026,
                11,
                25,
                10,
                0,
            ),
            answers={"today": "x"},
        )
    )
    assert late["late"] is False  # at the cut-off itself: still on time
    later = ok(
        await submit(client, bob, WEDNESDAY, at=utc(2026, 11, 25, 10, 1), answers={"today": "y"})
    )
    assert later["late"] is True
    assert later["answers"] == {"today": "y"}
    # A day checked into only afterwards is late from the start.
    monday = ok(await submit(client, bob, "2026-11-23", at=utc(2026, 11, 25, 8)))
    assert monday["late"] is True


async def test_a_future_day_or_a_day_without_stand_up_is_422_at_the_date(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    bob = people["bob"]
    tomorrow = await submit(client, bob, "2026-11-26", at=utc(2026, 11, 25, 23, 59))
    saturday = await submit(client, bob, "2026-11-28", at=utc(2026, 11, 30, 8))
    for response in (tomorrow, saturday):
        assert response.status_code == 422, response.text
        assert response.json()["code"] == "not-a-standup-day"
        assert response.json()["errors"][0]["pointer"] == "/path/date"
    assert "in the future" in tomorrow.json()["detail"]
    for suffix in ("", "/draft"):  # the summary and the draft refuse the same days
        url = day_url("2026-11-26", suffix)
        assert (await call(client, bob, "GET", url, at=utc(2026, 11, 25, 23))).status_code == 422
    ok(await client.put(CONFIG, json={"weekdays": ["sat"]}, headers=people["ada"].headers))
    assert (await submit(client, bob, "2026-11-28", at=utc(2026, 11, 30, 8))).status_code == 200
    assert (await submit(client, bob, WEDNESDAY, at=utc(2026, 11, 30, 8))).status_code == 422
    for bad in ("2026-02-30", "tomorrow", "0001-01-01"):
        response = await submit(client, bob, bad, at=utc(2026, 11, 30, 8))
        assert response.status_code == 422, bad


async def test_only_participants_check_in(client: AsyncClient, app: FastAPI, db: Database) -> None:
    people = await team(app, db)
    at = utc(2026, 11, 25, 8)
    assert (await submit(client, people["vic"], WEDNESDAY, at=at)).status_code == 403
    assert (await submit(client, people["sam"], WEDNESDAY, at=at)).status_code == 404
    assert (await submit(client, people["ada"], WEDNESDAY, at=at)).status_code == 200
    ok(
        await client.put(
            CONFIG, json={"participants": [people["ada"].id]}, headers=people["ada"].headers
        )
    )
    refused = await submit(client, people["bob"], WEDNESDAY, at=at)
    assert refused.status_code == 403
    assert refused.json()["code"] == "not-a-standup-participant"
    drafted = await client.get(day_url(WEDNESDAY, "/draft"), headers=people["vic"].headers)
    assert drafted.status_code == 403


async def test_answers_must_fit_the_config(client: AsyncClient, app: FastAPI, db: Database) -> None:
    people = await team(app, db)
    questions = [
        {"id": "done", "text": "Done?"},
        {"id": "on_track", "text": "On track?", "kind": "yes_no"},
    ]
    ok(await client.put(CONFIG, json={"questions": questions}, headers=people["ada"].headers))
    at = utc(2026, 11, 25, 8)
    bob = people["bob"]
    cases = [
        ({"yesterday": "x"}, "/answers/yesterday"),
        ({"on_track": "yes"}, "/answers/on_track"),
        ({"done": True}, "/answers/done"),
        ({"done": "x" * 4001}, "/answers/done"),
        ({"Bad Key": "x"}, "/answers/Bad Key"),
    ]
    for answers, pointer in cases:
        response = await submit(client, bob, WEDNESDAY, at=at, answers=answers)
        assert response.status_code == 422, (answers, response.text)
        pointers = [e["pointer"] for e in response.json()["errors"]]
        assert any(p.startswith(pointer) for p in pointers), response.text
    good = ok(
        await submit(client, bob, WEDNESDAY, at=at, answers={"done": "API-3", "on_track": False})
    )
    assert good["answers"] == {"done": "API-3", "on_track": False}
    assert (await submit(client, bob, WEDNESDAY, at=at, mood="fine")).status_code == 422


async def test_an_answer_that_is_not_unicode_text_is_422_at_its_place_and_nothing_is_kept(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    """JSON may escape half of a surrogate pair (`\\ud800`): no database stores that, nor can
    an answer holding it be written back. It is refused where it is, never a 500."""
    bob = (await team(app, db))["bob"]
    headers = {**bob.headers, "Content-Type": "application/json"}

    async def put_raw(answers: str) -> Response:
        with clock_at(utc(2026, 11, 25, 8)):
            return await client.put(
                day_url(WEDNESDAY, "/me"), content=f'{{"answers": {answers}}}', headers=headers
            )

    for text in ("x\\ud800", "\\udc00\\ud800", "\\ud83d"):
        refused = await put_raw(f'{{"today": "fine", "yesterday": "{text}"}}')
        assert refused.status_code == 422, refused.text
        assert [e["pointer"] for e in refused.json()["errors"]] == ["/answers/yesterday"]
    async with db.transaction(write=False) as session:
        assert await session.scalar(select(func.count()).select_from(StandupEntry)) == 0
    # A whole surrogate pair is an ordinary character.
    kept = ok(await put_raw('{"yesterday": "\\ud83d\\ude00"}'))
    assert kept["answers"] == {"yesterday": "\U0001f600"}


async def test_answers_go_into_events_only_when_the_project_shares_them(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    at = utc(2026, 11, 25, 8)
    ok(await submit(client, people["bob"], WEDNESDAY, at=at, answers={"today": "private"}))
    share = {"share_answers_in_events": True}
    ok(await client.put(CONFIG, json=share, headers=people["ada"].headers))
    ok(await submit(client, people["bob"], WEDNESDAY, at=at, answers={"today": "shared"}))
    events = await _entry_events(db)
    assert [e.data["answers"] for e in events] == [None, {"today": "shared"}]
    log = await client.get("/api/v1/projects/API/events", headers=people["vic"].headers)
    assert "private" not in log.text


async def test_one_entry_per_member_and_day(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    at = utc(2026, 11, 25, 8)
    for who in ("bob", "ada", "bob"):
        ok(await submit(client, people[who], WEDNESDAY, at=at))
    ok(await submit(client, people["bob"], "2026-11-24", at=at))
    async with db.transaction(write=False) as session:
        count = await session.scalar(select(func.count()).select_from(StandupEntry))
    assert count == 3
