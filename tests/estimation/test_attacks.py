"""Planning poker under attack: bad input of every kind, credentials reaching past their limits,
requests racing one another, items vanishing under a session, and a whole session run on a real
server where every answer, the event log, the live stream, the export and the item's history
are searched for a card nobody may see."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import delete, select, update

from takt.auth.models import User
from takt.auth.principal import Principal
from takt.core.db import Database
from takt.core.time import utcnow
from takt.items import repository as items_repo
from takt.items import trash
from takt.items.models import Item
from takt.projects import service as project_service
from takt.projects.models import ProjectMember
from tests.estimation.kit import SESSIONS, act, items, ok, poker_team, start, url, vote
from tests.live import live_server
from tests.support import Account, bearer, make_pat, make_project, make_user

STREAM = "text/event-stream"
EVENTS = "/api/v1/projects/API/events"


def _key(n: int) -> str:
    return f"API-{n}"


# Bodies no handler may answer with a 500: wrong types, NaN and infinities (Python's JSON reads
# them), huge lists, unknown items, duplicates, custom decks that clash.
BAD_CREATES = [
    '{"item_keys": ["API-1"], "scale": "custom", "cards": '
    '[{"label": "a", "points": NaN}, {"label": "b", "points": 3}]}',
    '{"item_keys": ["API-1"], "scale": "custom", "cards": '
    '[{"label": "a", "points": Infinity}, {"label": "b", "points": 3}]}',
    '{"item_keys": ["API-1"], "scale": "custom", "cards": '
    '[{"label": "a", "points": -Infinity}, {"label": "b", "points": 3}]}',
    '{"item_keys": ["API-1"], "scale": "custom", "cards": '
    '[{"label": "a", "points": 1e400}, {"label": "b", "points": 3}]}',
    '{"item_keys": ["API-1"], "scale": "custom", "cards": '
    '[{"label": "a", "points": 3}, {"label": "A", "points": 5}]}',
    '{"item_keys": ["API-1"], "scale": "custom", "cards": '
    '[{"label": "a", "points": 3}, {"label": "b ", "points": 3.0}]}',
    '{"item_keys": ["API-1"], "scale": "custom", "cards": '
    '[{"label": "a", "points": 0}, {"label": "b", "points": -0.0}]}',
    '{"item_keys": ["API-1"], "scale": "custom", "cards": '
    '[{"label": "a", "points": 3}, {"label": " ? ", "points": 5}]}',
    '{"item_keys": ["API-1"], "scale": "custom", "cards": '
    '[{"label": 5, "points": 3}, {"label": "b", "points": "5"}]}',
    '{"item_keys": ["API-1"], "scale": "custom", "cards": [{"label": "a", "points": 7}, '
    '{"label": "b", "points": 3}]}',
    '{"item_keys": ["API-1"], "scale": "custom", "cards": [{"label": "a", "points": 3}]}',
    '{"item_keys": ["API-1"], "scale": "custom", "cards": [1, 2]}',
    '{"item_keys": ["API-1"], "scale": "custom"}',
    '{"item_keys": ["API-1"], "cards": [{"label": "a", "points": 3}, {"label": "b", "points": 5}]}',
    '{"item_keys": ["API-1"], "scale": "custom", "cards": ['
    + ",".join(f'{{"label": "c{n}", "points": 3}}' for n in range(500))
    + "]}",
    '{"item_keys": "API-1"}',
    '{"item_keys": [1]}',
    '{"item_keys": []}',
    '{"item_keys": ["API-1", "API-1"]}',
    '{"item_keys": ["OTH-1"]}',
    '{"item_keys": ["API-999999999"]}',
    '{"item_keys": ["API-9999999999"]}',
    '{"item_keys": [' + ",".join(f'"API-{n}"' for n in range(1, 20000)) + "]}",
    '{"item_keys": ["API-1"], "participants": []}',
    '{"item_keys": ["API-1"], "participants": ["vic"]}',
    '{"item_keys": ["API-1"], "participants": ["sam"]}',
    '{"item_keys": ["API-1"], "participants": [null]}',
    '{"item_keys": ["API-1"], "participants": [' + ",".join(f'"u{n}"' for n in range(20000)) + "]}",
    '{"item_keys": ["API-1"], "participants": ["' + "x" * 65 + '"]}',
    '{"item_keys": ["API-1"], "unsure_card": "yes"}',
    '{"item_keys": ["API-1"], "title": "   "}',
    '{"item_keys": ["API-1"], "title": "' + "t" * 256 + '"}',
    '{"item_keys": ["API-1"], "scale": null}',
    '{"item_keys": ["API-1"], "scale": "bogus"}',
    '{"item_keys": ["API-1"], "facilitator_id": "x"}',
    "[]",
    '"x"',
    "null",
    '{"item_keys": ["API-1"]',
]
BAD_VOTES = [
    '{"card": 5}',
    '{"card": "7"}',
    '{"card": "5.0"}',
    '{"card": null}',
    '{"card": ""}',
    '{"card": "123456789"}',
    '{"card": NaN}',
    '{"card": ["5"]}',
    '{"card": "5\\u0000"}',
    '{"card": "5", "points": 100}',
    "{}",
    "[]",
]
BAD_FINALIZES = [
    '{"estimate": NaN}',
    '{"estimate": Infinity}',
    '{"estimate": -1}',
    '{"estimate": 7}',
    '{"estimate": "5"}',
    '{"estimate": true}',
    '{"estimate": 1e400}',
    '{"estimate": [3]}',
    "{}",
    "null",
]


async def test_no_bad_input_gets_a_500(client: AsyncClient, app: FastAPI, db: Database) -> None:
    people = await poker_team(app, db)
    ada = people["ada"]
    keys = await items(client, ada, 2)
    assert keys == [_key(1), _key(2)]
    headers = {**ada.headers, "Content-Type": "application/json"}

    async def refused(method: str, path: str, body: str) -> None:
        answer = await client.request(method, path, content=body, headers=headers)
        assert 400 <= answer.status_code < 500, (path, body[:200], answer.text[:300])
        assert answer.headers["content-type"].startswith("application/problem+json"), body[:80]

    for body in BAD_CREATES:
        await refused("POST", SESSIONS, body)
    session = await start(client, ada, keys, unsure_card=False)
    for body in [*BAD_VOTES, '{"card": "?"}']:
        await refused("PUT", url(session, keys[0], "vote"), body)
    for path in (
        url(session, keys[1], "vote"),  # not up now
        url(session, "API-99", "vote"),  # not in the session
        url(session, "api-1", "vote"),
        url("no-such-session", keys[0], "vote"),
        url("x" * 37, keys[0], "vote"),
    ):
        await refused("PUT", path, '{"card": "5"}')
    for what in ("reveal", "finalize"):  # nothing to reveal, nothing revealed
        await refused("POST", url(session, keys[0], what), '{"estimate": 3}')
    ok(await vote(client, people["bob"], session, keys[0], "3"))
    ok(await act(client, ada, session, keys[0], "reveal"))
    for body in BAD_FINALIZES:
        await refused("POST", url(session, keys[0], "finalize"), body)
    for query in ("?state=bogus", "?cursor=zzz", "?limit=100000", "?limit=-1"):
        answer = await client.get(SESSIONS + query, headers=headers)
        assert 400 <= answer.status_code < 500, (query, answer.text)
    # Nothing of all that changed the session.
    shown = ok(await client.get(url(session), headers=ada.headers))
    assert [i["state"] for i in shown["items"]] == ["revealed", "pending"]


async def test_a_token_reaches_no_further_than_its_scope_and_projects(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await poker_team(app, db)
    ada, bob, cal = people["ada"], people["bob"], people["cal"]
    await make_project(db, bob, "OTH")
    keys = await items(client, ada, 1)
    session = await start(client, bob, keys)  # bob facilitates; ada is the project's admin
    _, ada_write = await make_pat(app, db, ada, ["write"])
    _, ada_admin = await make_pat(app, db, ada, ["admin"])
    _, bob_read = await make_pat(app, db, bob, ["read"])
    _, bob_elsewhere = await make_pat(app, db, bob, ["admin"], projects=["OTH"])

    # A read token reads, and no more.
    assert (await client.get(url(session), headers=bearer(bob_read))).status_code == 200
    refused = await client.put(
        url(session, keys[0], "vote"), json={"card": "3"}, headers=bearer(bob_read)
    )
    assert refused.status_code == 403, refused.text
    # A token limited to another project sees nothing of this one.
    elsewhere = bearer(bob_elsewhere)
    for answer in (
        await client.get(url(session), headers=elsewhere),
        await client.get(url(session, keys[0]), headers=elsewhere),
        await client.get(SESSIONS, headers=elsewhere),
        await client.put(url(session, keys[0], "vote"), json={"card": "3"}, headers=elsewhere),
        await client.post(url(session, keys[0], "reveal"), headers=elsewhere),
        await client.post(url(session, act="finish"), headers=elsewhere),
    ):
        assert answer.status_code == 404, answer.text
    # The project admin runs another member's session only with a token of the admin scope.
    ok(await vote(client, cal, session, keys[0], "5"))
    write_only = await client.post(url(session, keys[0], "reveal"), headers=bearer(ada_write))
    assert write_only.status_code == 403, write_only.text
    assert (
        await client.put(
            url(session, keys[0], "vote"), json={"card": "3"}, headers=bearer(ada_write)
        )
    ).status_code == 200
    ok(await client.post(url(session, keys[0], "reveal"), headers=bearer(ada_admin)))

    # A participant who became a viewer votes no more; one who left the project sees nothing.
    ok(await act(client, bob, session, keys[0], "reset"))
    project_id = (await client.get("/api/v1/projects/API", headers=ada.headers)).json()["id"]
    async with db.transaction() as tx:
        await tx.execute(
            update(ProjectMember)
            .where(ProjectMember.project_id == project_id, ProjectMember.user_id == cal.id)
            .values(role="viewer")
        )
    app.state.security.principals.clear()
    demoted = await vote(client, cal, session, keys[0], "5")
    assert demoted.status_code == 403, demoted.text
    async with db.transaction() as tx:
        await tx.execute(
            delete(ProjectMember).where(
                ProjectMember.project_id == project_id, ProjectMember.user_id == cal.id
            )
        )
    app.state.security.principals.clear()
    assert (await vote(client, cal, session, keys[0], "5")).status_code == 404
    assert (await client.get(url(session), headers=cal.headers)).status_code == 404


async def test_an_item_up_now_purged_from_the_trash_does_not_strand_the_session(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await poker_team(app, db)
    ada, bob = people["ada"], people["bob"]
    keys = await items(client, ada, 3)
    session = await start(client, ada, keys)
    ok(await vote(client, bob, session, keys[0], "3"))
    assert (await client.delete(f"/api/v1/items/{keys[0]}", headers=ada.headers)).status_code == 204
    async with db.transaction() as tx:  # 30 days on, the trash is emptied
        assert await items_repo.purge_trashed(tx, utcnow() + timedelta(days=31)) == 1
    shown = ok(await client.get(url(session), headers=people["vic"].headers))
    assert shown["state"] == "open"
    assert shown["current_item_key"] == keys[1]
    assert [i["item_key"] for i in shown["items"]] == keys[1:]
    listed = ok(await client.get(SESSIONS, headers=ada.headers))["data"][0]
    assert listed["current_item_key"] == keys[1]
    # The next item is up: the team votes, reveals and finalizes it as usual.
    ok(await vote(client, bob, session, keys[1], "5"))
    revealed = ok(await act(client, ada, session, keys[1], "reveal"))
    assert [(r["number"], [v["card"] for v in r["votes"]]) for r in revealed["rounds"]] == [
        (1, ["5"])
    ]
    done = ok(await act(client, ada, session, keys[1], "finalize", estimate=5))
    assert done["current_item_key"] == keys[2]
    # Only the item up now takes votes: the one after it still doesn't.
    again = await client.get(url(session), headers=ada.headers)
    assert again.json()["items"][0]["state"] == "estimated"


async def test_the_item_after_a_purged_one_is_not_up_before_its_turn(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await poker_team(app, db)
    ada = people["ada"]
    keys = await items(client, ada, 3)
    session = await start(client, ada, keys)
    assert (await client.delete(f"/api/v1/items/{keys[0]}", headers=ada.headers)).status_code == 204
    async with db.transaction() as tx:
        await items_repo.purge_trashed(tx, utcnow() + timedelta(days=31))
    skipping = await vote(client, people["bob"], session, keys[2], "3")
    assert skipping.status_code == 409, skipping.text
    assert skipping.json()["code"] == "estimation-not-current-item"


async def test_a_project_with_more_voters_than_a_session_takes_names_its_participants(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await poker_team(app, db)
    ada = people["ada"]
    keys = await items(client, ada, 1)
    project_id = (await client.get("/api/v1/projects/API", headers=ada.headers)).json()["id"]
    async with db.transaction() as tx:  # ada, bob, cal and 98 more: 101 who could vote
        crowd = [
            User(
                username=f"voter{n}",
                username_key=f"voter{n}",
                email=f"voter{n}@example.com",
                email_key=f"voter{n}@example.com",
                display_name=f"Voter {n}",
                password_hash="-",
            )
            for n in range(98)
        ]
        tx.add_all(crowd)
        await tx.flush()
        crowd_ids = [u.id for u in crowd]
        tx.add_all(
            ProjectMember(project_id=project_id, user_id=i, role="member") for i in crowd_ids
        )
    refused = await client.post(SESSIONS, json={"item_keys": keys}, headers=ada.headers)
    assert refused.status_code == 422, refused.text[:300]
    assert refused.json()["errors"][0]["pointer"] == "/participants"
    named = await start(client, ada, keys, participants=["bob", "cal", "voter7"])
    assert [p["username"] for p in named["participants"]] == ["bob", "cal", "voter7"]
    async with db.transaction() as tx:  # one fewer: a hundred is a session's worth
        await tx.execute(delete(ProjectMember).where(ProjectMember.user_id == crowd_ids[0]))
    everyone = await start(client, ada, keys)
    assert len(everyone["participants"]) == 100


async def test_finalize_sees_a_trash_committed_while_it_waited_for_the_item(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    """A finalize that read the item before a concurrent trash committed must not write the
    estimate into the trashed item (PostgreSQL: it waits on the item's row lock; SQLite: on
    the one write lock)."""
    people = await poker_team(app, db)
    ada = people["ada"]
    keys = await items(client, ada, 1)
    session = await start(client, ada, keys)
    ok(await vote(client, people["bob"], session, keys[0], "3"))
    ok(await act(client, ada, session, keys[0], "reveal"))
    async with db.transaction() as tx:
        access = await project_service.access(tx, Principal.of(ada.user), "API")
        item = await tx.scalar(select(Item).where(Item.key == keys[0]))
        assert item is not None
        await trash.delete_item(tx, access, item, if_match=None)  # the row is locked now
        finalizing = asyncio.create_task(act(client, ada, session, keys[0], "finalize", estimate=3))
        await asyncio.sleep(0.5)  # it has read the item and waits for the lock
    answer = await finalizing
    assert answer.status_code == 409, answer.text[:300]
    assert answer.json()["code"] == "estimation-item-in-trash"
    async with db.transaction() as tx:
        assert await tx.scalar(select(Item.estimate).where(Item.key == keys[0])) is None


VOTERS = ("dan", "eve", "fay", "gus")


async def test_votes_reveals_resets_and_finalizes_racing_keep_rounds_and_events_consistent(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await poker_team(app, db, VOTERS)
    ada = people["ada"]
    keys = await items(client, ada, 3)
    session = await start(client, ada, keys)
    cards = ["1", "2", "3", "5", "?"]
    accepted_votes = 0
    for attempt, key in enumerate(keys):
        ok(await vote(client, people["bob"], session, key, "3"))
        accepted_votes += 1
        racing = [
            vote(client, people[name], session, key, cards[(n + attempt) % len(cards)])
            for n, name in enumerate(VOTERS)
        ]
        racing.insert(1 + attempt, act(client, ada, session, key, "reveal"))
        racing.insert(2, act(client, ada, session, key, "reset"))
        racing.insert(4 - attempt, act(client, ada, session, key, "reveal"))
        racing.append(act(client, ada, session, key, "finalize", estimate=3))
        answers = await asyncio.gather(*racing)
        for answer in answers:
            assert answer.status_code in (200, 409), answer.text
        accepted_votes += sum(
            1 for a in answers if a.status_code == 200 and a.request.method == "PUT"
        )
        state = ok(await client.get(url(session), headers=ada.headers))
        if state["current_item_key"] == key:  # the finalize came too early: settle it now
            current = state["current"]
            if current["state"] == "voting":
                if not current["votes_cast"]:
                    ok(await vote(client, people["bob"], session, key, "3"))
                    accepted_votes += 1
                ok(await act(client, ada, session, key, "reveal"))
            ok(await act(client, ada, session, key, "finalize", estimate=3))

    shown = ok(await client.get(url(session), headers=ada.headers))
    assert shown["state"] == "finished"
    assert [i["state"] for i in shown["items"]] == ["estimated"] * 3
    log = ok(await client.get(EVENTS, params={"limit": 100}, headers=ada.headers))["data"]
    by_type = Counter(e["type"] for e in log)
    assert by_type["estimation.vote_cast"] == accepted_votes
    assert by_type["estimation.finalized"] == 3
    assert by_type["estimation.finished"] == 1
    revealed = {
        (e["data"]["item_key"], e["data"]["round"]): e["data"]
        for e in log
        if e["type"] == "estimation.revealed"
    }
    resets = Counter(e["data"]["item_key"] for e in log if e["type"] == "estimation.reset")
    stored_votes = 0
    for key in keys:
        item = ok(await client.get(url(session, key), headers=ada.headers))
        rounds = item["rounds"]
        # Rounds 1..n, every one but the last closed by a reset; one reset event per closing.
        assert [r["number"] for r in rounds] == list(range(1, len(rounds) + 1))
        assert all(r["reset_at"] is not None for r in rounds[:-1])
        assert rounds[-1]["reset_at"] is None
        assert rounds[-1]["revealed"]
        assert resets[key] == len(rounds) - 1
        for r in rounds:
            stored_votes += len(r["voters"])
            voters = [v["user"]["username"] for v in r["voters"]]
            assert len(voters) == len(set(voters))  # one vote per participant per round
            event = revealed.get((key, r["number"]))
            assert (event is not None) == r["revealed"]
            if event is not None:  # the reveal showed exactly the round's votes, then none came
                assert [(v["voter"], v["card"]) for v in event["votes"]] == [
                    (v["voter"]["username"], v["card"]) for v in r["votes"]
                ]
                assert event["median"] == r["spread"]["median"]
    vote_events = Counter(
        (e["data"]["item_key"], e["data"]["round"], e["data"]["voter"])
        for e in log
        if e["type"] == "estimation.vote_cast"
    )
    assert len(vote_events) == stored_votes  # every vote stored has its event, in its round


# A whole session on a real server ------------------------------------------------------------

# Cards of a custom deck whose labels no other text contains. "koala" and "zebra" are played
# in a round reset before its reveal: nobody but their voter ever sees them. "lemur" is played
# in the round that is revealed.
DECK = [
    {"label": "zebra", "points": 40},
    {"label": "koala", "points": 100},
    {"label": "lemur", "points": 20},
]
NEVER_SHOWN = ("zebra", "koala")


@pytest.fixture(scope="module")
def server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with live_server(
        database_url,
        tmp_path_factory.mktemp("poker-attacks"),
        TAKT_EMBEDDED_WORKER="false",
        TAKT_SSE_HEARTBEAT_SECONDS="0.5",
        TAKT_RATE_LIMIT_PER_MINUTE="1000000",
    ) as base:
        yield base


def _without_deck(body: Any) -> Any:
    """An answer without what lists the whole deck, played or not: `scale` and `calibration`
    (and the unknown-card problem, which names the deck's labels)."""
    if isinstance(body, dict):
        if body.get("code") == "unknown-card":
            return {}
        return {k: _without_deck(v) for k, v in body.items() if k not in ("scale", "calibration")}
    if isinstance(body, list):
        return [_without_deck(v) for v in body]
    return body


async def _read_log(
    client: httpx.AsyncClient, who: Account, after: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """The project's events after `after`, page by page, and the cursor after the last."""
    found: list[dict[str, Any]] = []
    while True:
        params = {"after": after} if after else {}
        page = (await client.get(EVENTS, params=params, headers=who.headers)).json()
        if not page["data"]:
            return found, after
        found += page["data"]
        after = page["next_cursor"]


async def test_nobody_learns_an_unrevealed_card_from_answers_log_stream_export_or_history(
    server: str, app: FastAPI, db: Database
) -> None:
    people = await poker_team(app, db)
    root = await make_user(app, db, "root", admin=True)
    ada, bob, cal, vic, sam = (people[n] for n in ("ada", "bob", "cal", "vic", "sam"))
    everyone = (ada, bob, cal, vic, sam, root)
    answers: list[tuple[str, str, str]] = []  # (who, what, body)

    async with httpx.AsyncClient(base_url=server, timeout=20) as client:

        async def call(who: Account, method: str, path: str, body: Any = None) -> httpx.Response:
            response = await client.request(method, path, json=body, headers=who.headers)
            answers.append((who.username, f"{method} {path} {response.status_code}", response.text))
            assert response.status_code < 500, response.text
            return response

        keys = [
            (await call(ada, "POST", "/api/v1/projects/API/items", {"title": f"Story {n}"})).json()[
                "key"
            ]
            for n in range(2)
        ]
        key = keys[0]
        _, start = await _read_log(client, root, None)
        streamed: list[str] = []
        async with client.stream(
            "GET", EVENTS, headers={**root.headers, "Accept": STREAM}
        ) as stream:
            created = await call(
                ada, "POST", SESSIONS, {"item_keys": keys, "scale": "custom", "cards": DECK}
            )
            sid = created.json()["id"]

            async def everyone_reads() -> None:
                for who in everyone:
                    for path in (
                        url(sid),
                        url(sid, key),
                        SESSIONS,
                        EVENTS,
                        f"/api/v1/items/{key}/history",
                    ):
                        await call(who, "GET", path)

            await call(bob, "PUT", url(sid, key, "vote"), {"card": "lemur"})
            await call(bob, "PUT", url(sid, key, "vote"), {"card": "zebra"})  # changed
            await call(cal, "PUT", url(sid, key, "vote"), {"card": "koala"})
            await call(vic, "PUT", url(sid, key, "vote"), {"card": "lemur"})  # a viewer
            await call(sam, "PUT", url(sid, key, "vote"), {"card": "lemur"})  # a stranger
            await call(root, "PUT", url(sid, key, "vote"), {"card": "lemur"})  # not a participant
            await call(bob, "PUT", url(sid, key, "vote"), {"card": "panda"})  # not in the deck
            for who in (bob, ada, root):  # nothing to finalize before the reveal
                await call(who, "POST", url(sid, key, "finalize"), {"estimate": 40})
            await call(cal, "POST", url(sid, key, "reveal"))  # not the facilitator
            await everyone_reads()
            await call(ada, "POST", url(sid, key, "reset"))  # zebra and koala stay secret
            await everyone_reads()
            for who in (bob, cal, ada):
                await call(who, "PUT", url(sid, key, "vote"), {"card": "lemur"})
            await call(ada, "POST", url(sid, key, "reveal"))
            await call(bob, "PUT", url(sid, key, "vote"), {"card": "zebra"})  # too late
            await call(ada, "POST", url(sid, key, "finalize"), {"estimate": 20})
            await call(bob, "PUT", url(sid, keys[1], "vote"), {"card": "koala"})
            await call(ada, "POST", url(sid, act="finish"))  # koala on item 2: never revealed
            await everyone_reads()
            log, _ = await _read_log(client, root, start)
            # The live stream delivered the log, the same payloads (read now: they waited).
            lines = stream.aiter_lines()
            async with asyncio.timeout(15):
                while len(streamed) < len(log):
                    line = await anext(lines)
                    if line.startswith("data: "):
                        streamed.append(line[len("data: ") :])
        export = await client.get("/api/v1/projects/API/export", headers=ada.headers)
        assert export.status_code == 200, export.text
        assert export.json()["history"]

    assert [json.loads(s) for s in streamed] == log
    assert {e["type"] for e in log} >= {
        "estimation.created",
        "estimation.vote_cast",
        "estimation.reset",
        "estimation.revealed",
        "estimation.finalized",
        "estimation.finished",
    }
    texts = {"event log": [json.dumps(e) for e in log], "export": [export.text]}
    for where, found in texts.items():
        for text in found:
            for card in NEVER_SHOWN:
                assert card not in text, f"{card} in {where}: {text[:300]}"
    assert any("lemur" in text for text in texts["event log"])  # the revealed round is public
    own = {"bob": {"zebra", "koala"}, "cal": {"koala"}}
    for name, what, body in answers:
        try:
            shown = json.dumps(_without_deck(json.loads(body)))
        except json.JSONDecodeError:
            shown = body
        for card in NEVER_SHOWN:
            if card not in own.get(name, set()):
                assert card not in shown, f"{card} seen by {name} in {what}: {shown[:300]}"
    # The voters did see their own cards (the search can find what it looks for).
    assert any(
        '"my_card": "zebra"' in json.dumps(json.loads(b)) for w, _, b in answers if w == "bob"
    )
