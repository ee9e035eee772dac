"""Drafts: a member's entry pre-filled from their events since their last entry, every line
with the event and item it came from, the same answer for the same log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from takt.core.db import Database
from takt.standups import drafts
from takt.standups.drafts import DraftSource, DraftWindow, SourceLine
from tests.standups.kit import CONFIG, call, day_url, ok, submit, utc
from tests.support import Account, team


class Week:
    """A week of work in project API, each call at its moment."""

    def __init__(self, client: AsyncClient, people: dict[str, Account]) -> None:
        self.client, self.people = client, people

    async def do(self, who: str, at: datetime, method: str, url: str, **body: Any) -> Any:
        return ok(
            await call(self.client, self.people[who], method, url, at=at, json=body or None),
            201 if method == "POST" else 200,
        )

    async def item(self, who: str, at: datetime, title: str, **fields: Any) -> str:
        made = await self.do(who, at, "POST", "/api/v1/projects/API/items", title=title, **fields)
        return str(made["key"])

    async def move(self, who: str, at: datetime, key: str, status: str) -> None:
        await self.do(who, at, "PATCH", f"/api/v1/items/{key}", status=status)


async def _events(client: AsyncClient, who: Account) -> dict[str, dict[str, Any]]:
    log = ok(await client.get("/api/v1/projects/API/events?limit=100", headers=who.headers))
    return {e["id"]: e for e in log["data"]}


async def _scripted(client: AsyncClient, app: FastAPI, db: Database) -> tuple[Week, list[str]]:
    people = await team(app, db)
    week = Week(client, people)
    # Monday 23 November 2026 (the project runs in UTC, cut-off 10:00).
    mine = await week.item("bob", utc(2026, 11, 23, 9), "Refund endpoint", assignee="bob")
    other = await week.item("bob", utc(2026, 11, 23, 9, 5), "Settlement export")
    stuck = await week.item("ada", utc(2026, 11, 23, 9, 10), "Card vault", assignee="bob")
    await week.move("bob", utc(2026, 11, 23, 10), mine, "In Progress")
    await week.move("ada", utc(2026, 11, 23, 11), other, "In Progress")  # not bob's doing
    await week.do("bob", utc(2026, 11, 23, 12), "POST", f"/api/v1/items/{other}/comments", body="?")
    # Tuesday: bob checks in, then works.
    ok(await submit(client, people["bob"], "2026-11-24", at=utc(2026, 11, 24, 9, 30)))
    await week.move("bob", utc(2026, 11, 24, 11), other, "Done")
    await week.move("bob", utc(2026, 11, 24, 12), mine, "In Review")
    await week.do("bob", utc(2026, 11, 24, 13), "POST", f"/api/v1/items/{other}/comments", body="!")
    blocker = {"reason": "Vault keys missing", "waiting_on": {"kind": "team", "name": "Security"}}
    await week.do(
        "ada",
        utc(2026, 11, 24, 14),
        "POST",
        "/api/v1/projects/API/blockers",
        item_key=stuck,
        **blocker,
    )
    await week.do(
        "bob",
        utc(2026, 11, 24, 15),
        "POST",
        "/api/v1/projects/API/blockers",
        item_key=other,
        reason="Bank says no",
        waiting_on={"kind": "external", "name": "Bank"},
    )
    created = await week.item("bob", utc(2026, 11, 24, 16), "Retry declined payments")
    return week, [mine, other, stuck, created]


async def test_a_draft_lists_what_the_member_did_since_their_last_entry(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    week, (mine, other, stuck, created) = await _scripted(client, app, db)
    bob = week.people["bob"]
    draft = ok(
        await call(client, bob, "GET", day_url("2026-11-25", "/draft"), at=utc(2026, 11, 25, 8))
    )
    assert draft["since"] == "2026-11-24T09:30:00Z"
    assert draft["until"] == "2026-11-25T08:00:00Z"
    lines = [(line["section"], line["kind"], line["item_key"]) for line in draft["lines"]]
    assert lines == [
        ("yesterday", "finished", other),
        ("yesterday", "moved", mine),
        ("yesterday", "commented", other),
        ("yesterday", "created", created),
        ("today", "in_progress", mine),
        ("blockers", "blocked_item", stuck),
        ("blockers", "open_blocker", other),
    ]
    moved = draft["lines"][1]
    assert moved["detail"] == {"from": "In Progress", "to": "In Review"}
    assert moved["text"] == f"{mine} Refund endpoint: In Progress → In Review"
    assert draft["lines"][0]["text"] == f"{other} Settlement export: In Progress → Done"
    # Every line names the event it came from, which is about that item.
    log = await _events(client, bob)
    for line in draft["lines"]:
        event = log[line["event_id"]]
        assert line["item_key"] in (event["data"].get("key"), event["data"].get("item_key"))
    today = log[draft["lines"][4]["event_id"]]
    assert today["changes"]["status"] == ["In Progress", "In Review"]
    assert log[draft["lines"][5]["event_id"]]["changes"]["blocked"] == [False, True]
    assert log[draft["lines"][6]["event_id"]]["type"] == "blocker.raised"
    assert draft["answers"]["yesterday"].splitlines() == [
        f"- {other} Settlement export: In Progress → Done",
        f"- {mine} Refund endpoint: In Progress → In Review",
        f"- {other} Settlement export: commented",
        f"- {created} Retry declined payments: created (task)",
    ]
    assert draft["answers"]["today"] == f"- {mine} Refund endpoint: In Review"
    assert draft["blocked"] is True
    suggested = {(s["item_key"], s["source"]) for s in draft["suggested_blockers"]}
    assert suggested == {(stuck, "blocked_item"), (other, "open_blocker")}
    mine_open = next(s for s in draft["suggested_blockers"] if s["source"] == "open_blocker")
    assert mine_open["reason"] == "Bank says no"
    assert mine_open["blocker_id"] is not None
    assert draft["entry"] is None


async def test_the_same_log_gives_the_same_draft(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    week, _ = await _scripted(client, app, db)
    bob = week.people["bob"]
    url = day_url("2026-11-25", "/draft")
    first = ok(await call(client, bob, "GET", url, at=utc(2026, 11, 25, 8)))
    second = ok(await call(client, bob, "GET", url, at=utc(2026, 11, 25, 8)))
    assert first == second


async def test_a_first_draft_looks_three_working_days_back(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    week, (mine, other, stuck, _created) = await _scripted(client, app, db)
    ada = week.people["ada"]
    # Monday 30 November: Wednesday, Thursday, Friday back, from Wednesday's start.
    draft = ok(
        await call(client, ada, "GET", day_url("2026-11-30", "/draft"), at=utc(2026, 11, 30, 8))
    )
    assert draft["since"] == "2026-11-25T00:00:00Z"
    # Nothing she did since; what stands now still shows (the blocker she raised).
    assert [(line["kind"], line["item_key"]) for line in draft["lines"]] == [
        ("open_blocker", stuck)
    ]
    # Tuesday 24th: from Thursday the 19th, so ada's Monday work is in (and bob's is not).
    earlier = ok(
        await call(client, ada, "GET", day_url("2026-11-24", "/draft"), at=utc(2026, 11, 24, 8))
    )
    assert earlier["since"] == "2026-11-19T00:00:00Z"
    kinds = [(line["kind"], line["item_key"]) for line in earlier["lines"]]
    assert ("created", stuck) in kinds
    assert ("moved", other) in kinds
    assert mine not in [key for _, key in kinds]


async def test_a_past_day_drafts_up_to_that_day_and_shows_the_entry(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    week, (mine, *_rest) = await _scripted(client, app, db)
    bob = week.people["bob"]
    draft = ok(
        await call(client, bob, "GET", day_url("2026-11-24", "/draft"), at=utc(2026, 11, 26, 8))
    )
    assert draft["until"] == "2026-11-25T00:00:00Z"
    assert draft["entry"]["date"] == "2026-11-24"
    assert ("yesterday", "moved", mine) in [
        (line["section"], line["kind"], line["item_key"]) for line in draft["lines"]
    ]


async def test_questions_named_like_sections_are_prefilled_others_left_out(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    week, _ = await _scripted(client, app, db)
    questions = [
        {"id": "today", "text": "Next?"},
        {"id": "blockers", "text": "Blocked?", "kind": "yes_no"},
        {"id": "mood", "text": "Mood?"},
    ]
    ok(await client.put(CONFIG, json={"questions": questions}, headers=week.people["ada"].headers))
    bob = week.people["bob"]
    draft = ok(
        await call(client, bob, "GET", day_url("2026-11-25", "/draft"), at=utc(2026, 11, 25, 8))
    )
    assert set(draft["answers"]) == {"today", "blockers"}
    assert draft["answers"]["blockers"] is True


async def test_a_new_source_adds_lines_without_touching_the_others(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    week, (mine, *_rest) = await _scripted(client, app, db)
    seen: list[DraftWindow] = []

    async def reviews(session: AsyncSession, window: DraftWindow) -> list[SourceLine]:
        seen.append(window)
        return [
            SourceLine(
                section="yesterday",
                kind="reviewed",
                summary="reviewed pull request #7",
                item_key=mine,
                event_id=None,
                occurred_at=utc(2026, 11, 24, 10),
            )
        ]

    drafts.register_source(DraftSource("test.reviews", reviews))
    try:
        bob = week.people["bob"]
        draft = ok(
            await call(client, bob, "GET", day_url("2026-11-25", "/draft"), at=utc(2026, 11, 25, 8))
        )
    finally:
        del drafts._SOURCES["test.reviews"]
    assert seen[0].user_id == bob.id
    assert [line["kind"] for line in draft["lines"]][:3] == ["reviewed", "finished", "moved"]
    assert draft["lines"][0]["text"] == f"{mine} Refund endpoint: reviewed pull request #7"


async def test_a_long_period_keeps_each_sources_latest_lines(
    client: AsyncClient, app: FastAPI, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two lines a source at most (100 in use): of three items bob created, the two latest.
    monkeypatch.setattr(drafts, "MAX_LINES_PER_SOURCE", 2)
    people = await team(app, db)
    week = Week(client, people)
    keys = [
        await week.item("bob", utc(2026, 11, 23, 9 + n), f"Task {n}", assignee="ada")
        for n in range(3)
    ]
    bob = people["bob"]
    draft = ok(
        await call(client, bob, "GET", day_url("2026-11-25", "/draft"), at=utc(2026, 11, 25, 8))
    )
    created = [line["item_key"] for line in draft["lines"] if line["kind"] == "created"]
    assert created == keys[1:]  # oldest first, as every section is ordered


async def test_a_busy_days_draft_fits_an_entry_and_can_be_sent_back_as_it_is(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    """An answer takes at most 4,000 characters; a member who created and moved thirty items
    with long titles has far more lines than that. Each pre-filled answer keeps the latest
    lines that fit and says how many earlier ones `lines` holds, so the draft is a valid
    entry."""
    people = await team(app, db)
    week = Week(client, people)
    title = ("Refund endpoint for the payments service, with retries " * 5)[:250]
    for n in range(30):
        key = await week.item("bob", utc(2026, 11, 24, 8, n), f"{n} {title}", assignee="bob")
        await week.move("bob", utc(2026, 11, 24, 9, n), key, "In Progress")
    bob = people["bob"]
    at = utc(2026, 11, 25, 8)
    draft = ok(await call(client, bob, "GET", day_url("2026-11-25", "/draft"), at=at))
    yesterday = [line["text"] for line in draft["lines"] if line["section"] == "yesterday"]
    assert len(yesterday) == 60
    assert sum(len(text) + 3 for text in yesterday) > 4000  # "- " and a line break each
    answer = draft["answers"]["yesterday"]
    assert len(answer) <= 4000
    shown = answer.splitlines()
    assert shown[0].startswith(f"- … {60 - len(shown) + 1} earlier")
    assert shown[1:] == [f"- {text}" for text in yesterday[-(len(shown) - 1) :]]
    assert len(draft["answers"]["today"]) <= 4000
    sent = await submit(
        client, bob, "2026-11-25", at=at, answers=draft["answers"], blocked=draft["blocked"]
    )
    assert ok(sent)["answers"] == draft["answers"]
