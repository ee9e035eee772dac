"""Nobody learns who wrote a card of an anonymous retro: a whole retro is run on a real server,
every answer anyone gets and every event (the log, the live stream, the export) is kept, and
the author's id, username and display name appear in none of them."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from takt.config import Settings
from takt.core.db import Database
from tests.conftest import empty_all_tables
from tests.live import live_server
from tests.support import Account, add_member, app_for_module_data, make_project, make_user

STREAM = "text/event-stream"
EVENTS = "/api/v1/projects/API/events"


@pytest.fixture(scope="module")
def server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with live_server(
        database_url,
        tmp_path_factory.mktemp("retro-anonymity"),
        TAKT_EMBEDDED_WORKER="false",
        TAKT_SSE_HEARTBEAT_SECONDS="0.5",
        TAKT_RATE_LIMIT_PER_MINUTE="1000000",
    ) as base:
        yield base


class Recorder:
    """An HTTP client that keeps every answer's body."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.bodies: list[str] = []

    async def call(
        self, method: str, path: str, who: Account, json_body: Any = None, **kw: Any
    ) -> httpx.Response:
        response = await self.client.request(
            method, path, json=json_body, headers=who.headers, **kw
        )
        self.bodies.append(f"{method} {path} {response.status_code}: {response.text}")
        return response

    async def ok(self, method: str, path: str, who: Account, json_body: Any = None) -> Any:
        response = await self.call(method, path, who, json_body)
        assert response.is_success, response.text
        return response.json() if response.content else None


async def _log_end(client: httpx.AsyncClient, who: Account) -> str | None:
    """The cursor after the last event of the log now."""
    cursor = None
    while True:
        params: dict[str, str] = {"after": cursor} if cursor else {}
        page = (await client.get(EVENTS, params=params, headers=who.headers)).json()
        if not page["data"]:
            return cursor
        cursor = page["next_cursor"]


async def _read_log(api: Recorder, who: Account, after: str | None) -> list[dict[str, Any]]:
    """Every event after `after`, page by page."""
    found: list[dict[str, Any]] = []
    cursor = after
    while True:
        params: dict[str, str] = {"after": cursor} if cursor else {}
        page = (await api.call("GET", EVENTS, who, params=params)).json()
        if not page["data"]:
            return found
        found += page["data"]
        cursor = page["next_cursor"]


@pytest.fixture(scope="module")
async def people(settings: Settings, server: str) -> AsyncIterator[dict[str, Account]]:
    database = Database.from_settings(settings)
    app = app_for_module_data(settings, database)
    found = {name: await make_user(app, database, name) for name in ("ada", "cyd", "vic")}
    found["quill"] = await make_user(app, database, "quillwright")
    project = await make_project(database, found["ada"], "API")
    await add_member(database, project, found["cyd"], "member")
    await add_member(database, project, found["quill"], "member")
    await add_member(database, project, found["vic"], "viewer")
    yield found
    await empty_all_tables(database)
    await database.dispose()


async def test_no_answer_or_event_of_an_anonymous_retro_names_the_author(
    server: str, people: dict[str, Account]
) -> None:
    ada, cyd, vic, quill = people["ada"], people["cyd"], people["vic"], people["quill"]
    async with httpx.AsyncClient(base_url=server, timeout=20) as client:
        api = Recorder(client)
        renamed = await client.patch(
            "/api/v1/users/me", json={"display_name": "Quentin Penrose"}, headers=quill.headers
        )
        assert renamed.status_code == 200, renamed.text
        secrets = [quill.id, quill.username, "Quentin Penrose", "Penrose"]
        after = await _log_end(client, ada)
        streamed: list[str] = []
        async with client.stream(
            "GET", EVENTS, headers={**ada.headers, "Accept": STREAM}
        ) as stream:
            assert stream.status_code == 200
            everyone = (ada, cyd, vic, quill)
            await _run_a_retro(api, everyone, ada, cyd, quill)
            log: list[dict[str, Any]] = []
            for who in everyone:
                read = await _read_log(api, who, after)
                log = log or read
                assert read == log  # everyone who sees the project reads the same log
            # The live stream delivered what the log holds (read now: it waited in the stream).
            lines = stream.aiter_lines()
            async with asyncio.timeout(15):
                while len(streamed) < len(log):
                    line = await anext(lines)
                    if line.startswith("data: "):
                        streamed.append(line[len("data: ") :])
        # The export names every member (the author too): its retro events are what is checked.
        export = await client.get("/api/v1/projects/API/export", headers=ada.headers)
    assert export.status_code == 200
    retro_events = [e for e in export.json()["history"] if e["type"].startswith("retro.")]

    types = {e["type"] for e in log}
    assert {
        "retro.created",
        "retro.card_added",
        "retro.card_updated",
        "retro.card_removed",
        "retro.group_created",
        "retro.group_updated",
        "retro.vote_cast",
        "retro.vote_removed",
        "retro.advanced",
        "retro.action_created",
    } <= types
    assert len(retro_events) >= sum(1 for e in log if e["type"].startswith("retro."))
    places = {
        "answers": api.bodies,
        "event log": [json.dumps(e) for e in log],
        "live stream": streamed,
        "export": [json.dumps(e) for e in retro_events],
    }
    for where, texts in places.items():
        assert texts, where
        for text in texts:
            for secret in secrets:
                assert secret.lower() not in text.lower(), f"{secret!r} in {where}: {text[:300]}"
    # Sanity: the recorder did see the author's own answers, which say `mine`.
    assert any('"mine":true' in body for body in api.bodies)


async def _run_a_retro(
    api: Recorder, everyone: tuple[Account, ...], ada: Account, cyd: Account, quill: Account
) -> None:
    """A whole anonymous retro, with the author (quill) writing, editing, removing, grouping
    and voting, and everyone reading it in every phase, hitting errors on the way."""
    retro = await api.ok("POST", "/api/v1/projects/API/retros", ada, {"title": "Anon"})
    rid = retro["id"]
    base = f"/api/v1/retros/{rid}"

    async def everyone_reads() -> None:
        for who in everyone:
            await api.ok("GET", base, who)
            await api.ok("GET", "/api/v1/projects/API/retros", who)

    cards = [
        await api.ok("POST", f"{base}/cards", quill, {"prompt_id": p, "text": t})
        for p, t in (("start", "Pairing on reviews"), ("stop", "Friday deploys"), ("stop", "x"))
    ]
    other = await api.ok("POST", f"{base}/cards", cyd, {"prompt_id": "continue", "text": "Demos"})
    await api.ok("PATCH", f"{base}/cards/{cards[0]['id']}", quill, {"text": "Pair on reviews"})
    await api.call("DELETE", f"{base}/cards/{cards[2]['id']}", quill)
    await api.call("PATCH", f"{base}/cards/{cards[1]['id']}", ada, {"text": "Mine?"})  # hidden
    await everyone_reads()
    await api.ok("POST", f"{base}/advance", ada, {"to": "group"})
    await everyone_reads()
    for who in (ada, cyd):  # visible now, still not theirs
        await api.call("PATCH", f"{base}/cards/{cards[0]['id']}", who, {"text": "Mine?"})
        await api.call("DELETE", f"{base}/cards/{cards[0]['id']}", who)
    await api.ok("PATCH", f"{base}/cards/{cards[1]['id']}", quill, {"text": "No Friday deploys"})
    group = await api.ok(
        "POST", f"{base}/groups", quill, {"title": "Flow", "card_ids": [cards[0]["id"]]}
    )
    await api.ok(
        "PATCH",
        f"{base}/groups/{group['id']}",
        quill,
        {"title": "Flow of work", "card_ids": [cards[0]["id"], other["id"]]},
    )
    await api.call("POST", f"{base}/votes", quill, {"group_id": group["id"]})  # too early
    await everyone_reads()
    await api.ok("POST", f"{base}/advance", ada, {"to": "vote"})
    groups = [g["id"] for g in (await api.ok("GET", base, quill))["groups"]]
    votes = [
        await api.ok("POST", f"{base}/votes", quill, {"group_id": groups[0]}) for _ in range(3)
    ]
    await api.call("POST", f"{base}/votes", quill, {"group_id": groups[0]})  # group limit
    await api.ok("POST", f"{base}/votes", quill, {"group_id": groups[1]})
    await api.ok("POST", f"{base}/votes", quill, {"group_id": groups[1]})
    await api.call("POST", f"{base}/votes", quill, {"group_id": groups[1]})  # budget
    await api.call("DELETE", f"{base}/votes/{votes[0]['id']}", quill)
    await api.call("DELETE", f"{base}/votes/{votes[1]['id']}", cyd)  # not cyd's
    await api.ok("POST", f"{base}/votes", cyd, {"group_id": groups[1]})
    await api.call("POST", f"{base}/cards", quill, {"prompt_id": "start", "text": "Late"})
    await everyone_reads()
    await api.ok("POST", f"{base}/advance", ada, {"to": "discuss"})
    await everyone_reads()
    await api.ok(
        "POST",
        f"{base}/actions",
        ada,
        {"title": "Agree on review turnaround", "owner": cyd.username, "group_id": groups[0]},
    )
    await api.call("POST", f"{base}/actions", quill, {"title": "x", "owner": "nobody-here"})
    await api.ok("POST", f"{base}/advance", ada, {"to": "closed"})
    await everyone_reads()
    await api.ok("POST", "/api/v1/projects/API/retros", ada, {"title": "Next"})
