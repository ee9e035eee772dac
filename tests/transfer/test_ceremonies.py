"""Blockers, the risk register and stand-ups in the export document: they round-trip with ids
remapped and people resolved by username, bad references are a 422 at their pointer with nothing
written, and version 2 documents (without them) still import."""

from __future__ import annotations

import copy
import json
import time
from datetime import UTC, date, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import select

from takt.blockers import service as blockers_service
from takt.core.db import Database
from takt.core.time import clock_at
from takt.projects.models import Project
from takt.standups import summary as standup_summary
from tests.support import Account, make_user, new_item, team
from tests.transfer.test_transfer import IMPORT, assert_same_except_key, big_document, normalise

MONDAY = date(2026, 11, 16)
# Moments of the scenario (UTC calendar: the project's default time zone).
BEFORE_CUTOFF = datetime(2026, 11, 16, 9, tzinfo=UTC)
AFTER_CUTOFF = datetime(2026, 11, 16, 11, tzinfo=UTC)
RECORDED = datetime(2026, 11, 16, 10, 5, tzinfo=UTC)
LATER = datetime(2026, 11, 20, 15, tzinfo=UTC)


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def at(moment: datetime, call: Any) -> Any:
    with clock_at(moment):
        return await call


async def ceremonies(client: AsyncClient, app: FastAPI, db: Database) -> dict[str, Any]:
    """Project API with blockers (one raised through a stand-up entry, one resolved, one
    promoted, escalated ones), a risk register linked to items and a sprint, a stand-up config
    with participants and a yes/no question, two entries (one late) and a recorded summary."""
    people = await team(app, db)
    ada, bob = people["ada"], people["bob"]
    with clock_at(BEFORE_CUTOFF.replace(hour=7)):
        story = (await new_item(client, ada, type="story", estimate=5))["key"]
        task = (await new_item(client, bob, estimate=3))["key"]
        other = (await new_item(client, ada, estimate=2))["key"]
        sprint = ok(
            await client.post(
                "/api/v1/projects/API/sprints",
                json={"name": "One", "start_date": "2026-11-16", "end_date": "2026-11-27"},
                headers=ada.headers,
            ),
            201,
        )
        ok(
            await client.post(
                f"/api/v1/sprints/{sprint['id']}/items",
                json={"item_keys": [story, task]},
                headers=ada.headers,
            )
        )
        ok(await client.post(f"/api/v1/sprints/{sprint['id']}/start", headers=ada.headers))
        ok(
            await client.put(
                "/api/v1/projects/API/standup-config",
                json={
                    "questions": [
                        {"id": "yesterday", "text": "What did you finish?", "kind": "text"},
                        {"id": "on_track", "text": "Is the sprint on track?", "kind": "yes_no"},
                    ],
                    "cutoff": "10:00",
                    "participants": [ada.id, bob.id],
                    "share_answers_in_events": True,
                },
                headers=ada.headers,
            )
        )
    with clock_at(BEFORE_CUTOFF):
        entry = ok(
            await client.put(
                "/api/v1/projects/API/standups/2026-11-16/me",
                json={
                    "answers": {"yesterday": "Reviews.", "on_track": False},
                    "blockers": [
                        {
                            "item_key": task,
                            "reason": "Which refunds may be partial?",
                            "waiting_on": {"kind": "person", "user": "ada"},
                        }
                    ],
                },
                headers=bob.headers,
            )
        )
        external = ok(
            await client.post(
                "/api/v1/projects/API/blockers",
                json={
                    "item_key": other,
                    "reason": "The sandbox rejects 3-D Secure",
                    "waiting_on": {"kind": "external", "name": "Stripe support"},
                },
                headers=bob.headers,
            ),
            201,
        )
        on_item = ok(
            await client.post(
                "/api/v1/projects/API/blockers",
                json={
                    "item_key": story,
                    "reason": "Needs the final copy",
                    "waiting_on": {"kind": "item", "item_key": other},
                },
                headers=ada.headers,
            ),
            201,
        )
    with clock_at(RECORDED):
        async with db.transaction() as session:
            project = (await session.scalars(select(Project).where(Project.key == "API"))).one()
            assert await standup_summary.record(session, project, MONDAY)
    with clock_at(AFTER_CUTOFF):
        ok(
            await client.put(
                "/api/v1/projects/API/standups/2026-11-16/me",
                json={"answers": {"yesterday": "Planning.", "on_track": True}},
                headers=ada.headers,
            )
        )
        ok(
            await client.post(
                f"/api/v1/blockers/{on_item['id']}/resolve",
                json={"resolution": "Copy arrived"},
                headers=ada.headers,
            )
        )
        promoted = ok(
            await client.post(
                f"/api/v1/blockers/{entry['blocker_ids'][0]}/promote",
                json={"impact": 4},
                headers=ada.headers,
            ),
            201,
        )
        ok(
            await client.post(
                "/api/v1/projects/API/risks",
                json={
                    "title": "The bank may not open its sandbox in time",
                    "likelihood": 3,
                    "impact": 5,
                    "owner": "bob",
                    "mitigation": "Mock the bank.",
                    "review_date": "2026-11-25",
                    "item_keys": [other, story],
                    "sprint_ids": [sprint["id"]],
                },
                headers=ada.headers,
            ),
            201,
        )
    with clock_at(LATER):
        async with db.transaction() as session:
            assert await blockers_service.escalate_due(session) == 2
    return {
        "people": people,
        "keys": [story, task, other],
        "sprint": sprint,
        "external": external,
        "promoted": promoted,
    }


def _without_ids(value: Any) -> Any:
    """An API answer without the ids the server gives rows."""
    row_ids = ("id", "risk_id", "blocker_id", "blocker_ids", "sprint_id", "sprint_ids", "version")
    if isinstance(value, list):
        return [_without_ids(v) for v in value]
    if isinstance(value, dict):
        return {k: _without_ids(v) for k, v in value.items() if k not in row_ids}
    return value


async def _reads(client: AsyncClient, who: Account, key: str) -> dict[str, Any]:
    """What the API shows of a project's blockers, risks and stand-ups, read at LATER."""
    with clock_at(LATER):
        base = f"/api/v1/projects/{key}"
        return {
            "blockers": ok(await client.get(f"{base}/blockers", headers=who.headers))["data"],
            "risks": ok(await client.get(f"{base}/risks", headers=who.headers))["data"],
            "matrix": ok(await client.get(f"{base}/risks/matrix", headers=who.headers)),
            "config": ok(await client.get(f"{base}/standup-config", headers=who.headers)),
            "day": ok(await client.get(f"{base}/standups/2026-11-16", headers=who.headers)),
        }


async def test_blockers_risks_and_standups_round_trip(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    scene = await ceremonies(client, app, db)
    ada = scene["people"]["ada"]
    document = ok(await client.get("/api/v1/projects/API/export", headers=ada.headers))
    assert document["version"] == 4
    story, task, other = scene["keys"]
    blockers = {b["item_key"]: b for b in document["blockers"]}
    assert set(blockers) == {story, task, other}
    assert blockers[task]["waiting_on"] == {
        "kind": "person",
        "user": "ada",
        "name": None,
        "item_key": None,
    }
    assert blockers[task]["raised_by"] == "bob"
    assert blockers[story]["waiting_on"]["item_key"] == other
    assert blockers[story]["status"] == "resolved"
    assert blockers[story]["resolved_by"] == "ada"
    assert blockers[story]["resolved_age_hours"] is not None
    assert blockers[other]["escalated_at"] is not None
    risks = {r["title"]: r for r in document["risks"]}
    promoted = risks[scene["promoted"]["title"]]
    assert promoted["blocker"] == blockers[task]["ref"]
    assert blockers[task]["risk"] == promoted["ref"]
    manual = risks["The bank may not open its sandbox in time"]
    assert manual["item_keys"] == [story, other]  # by item number
    assert manual["sprints"] == [document["sprints"][0]["ref"]]
    assert manual["owner"] == "bob"
    assert manual["created_by"] == "ada"
    standups = document["standups"]
    assert standups["config"]["participants"] == ["ada", "bob"]
    assert [q["kind"] for q in standups["config"]["questions"]] == ["text", "yes_no"]
    entries = {e["user"]: e for e in standups["entries"]}
    assert entries["bob"]["blockers"] == [blockers[task]["ref"]]
    assert entries["bob"]["answers"] == {"yesterday": "Reviews.", "on_track": False}
    assert entries["ada"]["late"] is True
    assert entries["bob"]["late"] is False
    (summary,) = standups["summaries"]
    assert summary["date"] == "2026-11-16"
    assert summary["sprint"] == document["sprints"][0]["ref"]
    assert summary["submitted"] == 1
    # Ids inside history name the same rows as the references do.
    raised = [e for e in document["history"] if e["type"] == "blocker.raised"]
    assert {e["subject"] for e in raised} == {b["ref"] for b in document["blockers"]}

    # An instance admin's import brings the members along, so every person resolves.
    root = await make_user(app, db, "root", admin=True)
    ok(
        await client.post(IMPORT, json={"key": "NEW", "document": document}, headers=root.headers),
        201,
    )
    again = ok(await client.get("/api/v1/projects/NEW/export", headers=root.headers))
    assert [m["username"] for m in again["members"]] == ["ada", "bob", "root", "vic"]
    again["members"] = document["members"]
    assert_same_except_key(again, "NEW", document)

    # The API shows the copy as it shows the original (ids aside).
    original, copied = await _reads(client, ada, "API"), await _reads(client, ada, "NEW")
    for part in original:
        assert normalise(_without_ids(copied[part]), "NEW") == normalise(
            _without_ids(original[part]), "API"
        ), part
    assert copied["day"]["recorded"] is not None
    assert len(copied["day"]["entries"]) == 2
    assert copied["matrix"]["total"] == 2

    # The copy works like any other project: its escalated blockers are not escalated again, a
    # promoted blocker is promoted once, resolving the last open blocker clears the flag.
    with clock_at(LATER):
        async with db.transaction() as session:
            assert await blockers_service.escalate_due(session) == 0
        copy_blockers = {b["item_key"]: b for b in copied["blockers"]}
        again_promoted = await client.post(
            f"/api/v1/blockers/{copy_blockers['NEW-2']['id']}/promote", headers=ada.headers
        )
        assert again_promoted.status_code == 409
        assert again_promoted.json()["code"] == "blocker-already-promoted"
        ok(
            await client.post(
                f"/api/v1/blockers/{copy_blockers['NEW-3']['id']}/resolve", headers=ada.headers
            )
        )
        item = ok(await client.get("/api/v1/items/NEW-3", headers=ada.headers))
        assert item["blocked"] is False
        # Deleting the promoted risk makes its blocker stop naming it, as in any project.
        risk_id = copy_blockers["NEW-2"]["risk_id"]
        assert (
            await client.delete(f"/api/v1/risks/{risk_id}", headers=ada.headers)
        ).status_code == 204
        blocker = ok(
            await client.get(
                f"/api/v1/blockers/{copy_blockers['NEW-2']['id']}", headers=ada.headers
            )
        )
        assert blocker["risk_id"] is None
    # The original is untouched.
    assert ok(await client.get(f"/api/v1/items/{other}", headers=ada.headers))["blocked"] is True


async def test_people_who_are_not_members_of_the_copy_resolve_to_nobody(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    """ada imports on her own: she is the copy's only member, so only her own acts stay hers,
    and nobody else's name becomes an account of the copy."""
    scene = await ceremonies(client, app, db)
    ada = scene["people"]["ada"]
    story, task, other = scene["keys"]
    document = ok(await client.get("/api/v1/projects/API/export", headers=ada.headers))
    ok(
        await client.post(IMPORT, json={"key": "MINE", "document": document}, headers=ada.headers),
        201,
    )
    copied = ok(await client.get("/api/v1/projects/MINE/export", headers=ada.headers))
    blockers = {b["item_key"].replace("MINE", "API"): b for b in copied["blockers"]}
    assert blockers[task]["raised_by"] is None  # bob's
    assert blockers[task]["waiting_on"]["user"] == "ada"
    assert blockers[other]["raised_by"] is None
    assert blockers[story]["raised_by"] == "ada"
    assert blockers[story]["resolved_by"] == "ada"
    risks = {r["title"]: r for r in copied["risks"]}
    assert risks["The bank may not open its sandbox in time"]["owner"] is None  # bob
    assert risks["The bank may not open its sandbox in time"]["created_by"] == "ada"
    standups = copied["standups"]
    assert standups["config"]["participants"] == ["ada"]
    assert [e["user"] for e in standups["entries"]] == ["ada"]
    assert len(standups["summaries"]) == 1
    # Everything else is as the document gave it.
    for part in ("blockers", "risks"):
        assert len(copied[part]) == len(document[part])
    with clock_at(LATER):
        day = ok(await client.get("/api/v1/projects/MINE/standups/2026-11-16", headers=ada.headers))
    assert [e["user"]["username"] for e in day["entries"]] == ["ada"]
    assert day["recorded"]["submitted"] == 1  # the figures recorded at the cut-off stay


def _set(document: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    broken = copy.deepcopy(document)
    target = broken
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return broken


UNKNOWN = "00000000-0000-4000-8000-0000000fffff"


async def test_bad_references_are_a_422_at_their_pointer_and_write_nothing(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    scene = await ceremonies(client, app, db)
    ada = scene["people"]["ada"]
    document = ok(await client.get("/api/v1/projects/API/export", headers=ada.headers))
    story, task, other = scene["keys"]
    index = {b["item_key"]: n for n, b in enumerate(document["blockers"])}
    promoted_risk = next(n for n, r in enumerate(document["risks"]) if r["blocker"])
    manual_risk = 1 - promoted_risk
    item_of = {i["key"]: n for n, i in enumerate(document["items"])}
    entry = next(n for n, e in enumerate(document["standups"]["entries"]) if e["blockers"])
    cases: list[tuple[str, dict[str, Any], str]] = [
        (
            "blocked item not in the document",
            _set(document, ("blockers", 0, "item_key"), "API-99"),
            "/document/blockers/0/item_key",
        ),
        (
            "waits on an item not in the document",
            _set(document, ("blockers", index[story], "waiting_on", "item_key"), "API-99"),
            f"/document/blockers/{index[story]}/waiting_on/item_key",
        ),
        (
            "waits on itself",
            _set(document, ("blockers", index[story], "waiting_on", "item_key"), story),
            f"/document/blockers/{index[story]}/waiting_on/item_key",
        ),
        (
            "promoted to an unknown risk",
            _set(document, ("blockers", index[task], "risk"), UNKNOWN),
            f"/document/blockers/{index[task]}/risk",
        ),
        (
            "names a risk that names another blocker",
            _set(
                document,
                ("blockers", index[other], "risk"),
                document["risks"][promoted_risk]["ref"],
            ),
            f"/document/blockers/{index[other]}/risk",
        ),
        (
            "risk promoted from an unknown blocker",
            _set(document, ("risks", manual_risk, "blocker"), UNKNOWN),
            f"/document/risks/{manual_risk}/blocker",
        ),
        (
            "two risks promoted from one blocker",
            _set(
                document,
                ("risks", manual_risk, "blocker"),
                document["risks"][promoted_risk]["blocker"],
            ),
            f"/document/risks/{max(manual_risk, promoted_risk)}/blocker",
        ),
        (
            "risk threatens an item not in the document",
            _set(document, ("risks", manual_risk, "item_keys", 1), "API-99"),
            f"/document/risks/{manual_risk}/item_keys/1",
        ),
        (
            "risk threatens an item twice",
            _set(document, ("risks", manual_risk, "item_keys"), [story, story]),
            f"/document/risks/{manual_risk}/item_keys/1",
        ),
        (
            "risk threatens an unknown sprint",
            _set(document, ("risks", manual_risk, "sprints", 0), UNKNOWN),
            f"/document/risks/{manual_risk}/sprints/0",
        ),
        (
            "entry names an unknown blocker",
            _set(document, ("standups", "entries", entry, "blockers", 0), UNKNOWN),
            f"/document/standups/entries/{entry}/blockers/0",
        ),
        (
            "summary names an unknown sprint",
            _set(document, ("standups", "summaries", 0, "sprint"), UNKNOWN),
            "/document/standups/summaries/0/sprint",
        ),
        (
            "a second entry of one person for one day",
            _set(
                document,
                ("standups", "entries"),
                [
                    *document["standups"]["entries"],
                    {
                        **document["standups"]["entries"][0],
                        "ref": None,
                        "user": document["standups"]["entries"][0]["user"].upper(),
                    },
                ],
            ),
            f"/document/standups/entries/{len(document['standups']['entries'])}/date",
        ),
        (
            "a second summary of one day",
            _set(
                document,
                ("standups", "summaries"),
                [
                    *document["standups"]["summaries"],
                    {**document["standups"]["summaries"][0], "ref": None},
                ],
            ),
            "/document/standups/summaries/1/date",
        ),
        (
            "a blocker's reference used by an item",
            _set(document, ("blockers", 0, "ref"), document["items"][0]["ref"]),
            "/document/blockers/0/ref",
        ),
        (
            "an open blocker on an item that is not blocked",
            _set(document, ("items", item_of[other], "blocked"), False),
            f"/document/items/{item_of[other]}/blocked",
        ),
        (
            "a team without a name",
            _set(document, ("blockers", index[other], "waiting_on"), {"kind": "team"}),
            f"/document/blockers/{index[other]}/waiting_on",
        ),
        (
            "resolved without when",
            _set(document, ("blockers", index[story], "resolved_at"), None),
            f"/document/blockers/{index[story]}",
        ),
        (
            "a participant twice",
            _set(document, ("standups", "config", "participants"), ["ada", "ADA"]),
            "/document/standups/config",
        ),
        (
            "an answer to a question id no config can have",
            _set(document, ("standups", "entries", 0, "answers"), {"Not an id": "x"}),
            "/document/standups/entries/0/answers/Not an id/[key]",
        ),
        (
            "a time without a time zone (the databases store UTC)",
            _set(document, ("items", 0, "created_at"), "2026-11-16T09:00:00"),
            "/document/items/0/created_at",
        ),
        (
            "a time whose UTC is before year 1",
            _set(document, ("blockers", 0, "raised_at"), "0001-01-01T00:00:00+01:00"),
            "/document/blockers/0/raised_at",
        ),
        (
            "a risk rated 6",
            _set(document, ("risks", 0, "likelihood"), 6),
            "/document/risks/0/likelihood",
        ),
        (
            "a risk threatening 101 items",
            _set(document, ("risks", 0, "item_keys"), [story] * 101),
            "/document/risks/0/item_keys",
        ),
        (
            "an entry naming one blocker twice",
            _set(
                document,
                ("standups", "entries", entry, "blockers"),
                document["standups"]["entries"][entry]["blockers"] * 2,
            ),
            f"/document/standups/entries/{entry}/blockers/1",
        ),
        (
            "an entry naming more blockers than a document holds",
            _set(document, ("standups", "entries", 0, "blockers"), [UNKNOWN] * 100_001),
            "/document/standups/entries/0/blockers",
        ),
    ]
    for name, broken, pointer in cases:
        response = await client.post(
            IMPORT, json={"key": "NEW", "document": broken}, headers=ada.headers
        )
        assert response.status_code == 422, (name, response.text)
        body = response.json()
        assert body["code"] == "validation-failed", name
        assert body["errors"][0]["pointer"] == pointer, (name, body["errors"])
        assert (await client.get("/api/v1/projects/NEW", headers=ada.headers)).status_code == 404
    # The unbroken document imports.
    ok(
        await client.post(IMPORT, json={"key": "NEW", "document": document}, headers=ada.headers),
        201,
    )


async def test_a_version_2_document_imports_and_other_versions_are_refused(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    scene = await ceremonies(client, app, db)
    ada = scene["people"]["ada"]
    document = ok(await client.get("/api/v1/projects/API/export", headers=ada.headers))
    later = ("blockers", "risks", "standups", "environments", "deployments", "incidents")
    old = {k: v for k, v in document.items() if k not in (*later, "readiness_policy")} | {
        "version": 2
    }
    # A version 2 export had no blockers: nothing kept an item's flag in step with them.
    ok(await client.post(IMPORT, json={"key": "OLD", "document": old}, headers=ada.headers), 201)
    copied = ok(await client.get("/api/v1/projects/OLD/export", headers=ada.headers))
    assert copied["version"] == 4
    assert copied["blockers"] == []
    assert copied["risks"] == []
    assert copied["standups"] == {"config": None, "entries": [], "summaries": []}
    assert len(copied["items"]) == len(document["items"])
    for version in (1, 5, "4"):
        response = await client.post(
            IMPORT,
            json={"key": "NEW", "document": {**document, "version": version}},
            headers=ada.headers,
        )
        assert response.status_code == 422, version
        assert response.json()["errors"][0]["pointer"] == "/document/version"


@pytest.mark.parametrize("section", ["blockers", "risks", "standups"])
async def test_each_new_section_is_optional(
    client: AsyncClient, app: FastAPI, db: Database, section: str
) -> None:
    """A version 3 document may leave out a section it has nothing for."""
    ada = (await team(app, db))["ada"]
    await new_item(client, ada)
    document = ok(await client.get("/api/v1/projects/API/export", headers=ada.headers))
    del document[section]
    body = json.dumps({"key": "NEW", "document": document})
    response = await client.post(
        IMPORT, content=body, headers={**ada.headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 201, response.text


def big_ceremonies(items: int, people: list[str], days: int) -> dict[str, Any]:
    """`big_document(items)` (a version 2 document) grown into version 3: a blocker on every
    other item (the first half open), a risk for every tenth item threatening it, its neighbours
    and the sprint (one in ten promoted from that item's blocker), a stand-up config, an entry of
    each person on each of `days` days and a summary per day."""
    document = big_document(items)
    document["version"] = 3
    sprint = document["sprints"][0]["ref"]
    document["members"] = [{"username": name, "role": "member"} for name in people]

    def ref(n: int) -> str:
        return f"00000000-0000-4000-9000-{n:012x}"

    def moment(n: int) -> str:
        return f"2026-01-{1 + n % 28:02d}T{n % 24:02d}:00:00Z"

    blockers: list[dict[str, Any]] = []
    for n in range(1, items + 1, 2):
        is_open = n <= items // 2
        document["items"][n - 1]["blocked"] = is_open
        blockers.append(
            {
                "ref": ref(n),
                "item_key": f"BIG-{n}",
                "reason": f"Blocked number {n}",
                "waiting_on": {"kind": "item", "item_key": f"BIG-{n + 1}"}
                if n < items
                else {"kind": "external", "name": "Vendor"},
                "status": "open" if is_open else "resolved",
                "raised_by": people[n % len(people)],
                "raised_at": moment(n),
                "resolved_by": None if is_open else people[0],
                "resolved_at": None if is_open else moment(n + 1),
                "resolution": "" if is_open else "Done",
                "resolved_age_hours": None if is_open else 8.0,
                "escalated_at": None,
                "risk": None,
                "created_at": moment(n),
                "updated_at": moment(n),
            }
        )
    risks = []
    for n in range(1, items - 1, 10):
        promoted = n % 100 == 1 and n <= items // 2
        risk: dict[str, Any] = {
            "ref": ref(10_000_000 + n),
            "title": f"Risk number {n}",
            "description": "Could happen. " * 5,
            "likelihood": 1 + n % 5,
            "impact": 1 + (n // 10) % 5,
            "status": "open",
            "owner": people[n % len(people)],
            "mitigation": "Watch it.",
            "review_date": "2026-02-01",
            "item_keys": [f"BIG-{n}", f"BIG-{n + 1}", f"BIG-{n + 2}"],
            "sprints": [sprint],
            "blocker": ref(n) if promoted else None,
            "created_by": people[0],
            "created_at": moment(n),
            "updated_at": moment(n),
        }
        if promoted:
            blockers[(n - 1) // 2]["risk"] = risk["ref"]
        risks.append(risk)
    first = date(2023, 1, 2)
    entries, summaries = [], []
    for day in range(days):
        when = date.fromordinal(first.toordinal() + day).isoformat()
        for index, name in enumerate(people):
            entries.append(
                {
                    "ref": ref(20_000_000 + day * len(people) + index),
                    "user": name,
                    "date": when,
                    "answers": {"yesterday": f"Worked on BIG-{day % items + 1}.", "today": "More."},
                    "blocked": False,
                    "blockers": [],
                    "late": index % 7 == 0,
                    "submitted_at": f"{when}T09:{index % 60:02d}:00Z",
                    "updated_at": f"{when}T09:{index % 60:02d}:00Z",
                }
            )
        summaries.append(
            {
                "ref": ref(30_000_000 + day),
                "date": when,
                "recorded_at": f"{when}T10:05:00Z",
                "expected": len(people),
                "submitted": len(people),
                "participation": 1.0,
                "blocked_rate": 0.0,
                "open_blockers": 3,
                "sprint": None,
                "sprint_probability": None,
            }
        )
    document["blockers"] = blockers
    document["risks"] = risks
    document["standups"] = {
        "config": {
            "questions": [
                {"id": "yesterday", "text": "Done?", "kind": "text"},
                {"id": "today", "text": "Next?", "kind": "text"},
            ],
            "weekdays": None,
            "cutoff": "10:00",
            "participants": None,
            "share_answers_in_events": False,
            "created_at": moment(0),
            "updated_at": moment(0),
        },
        "entries": entries,
        "summaries": summaries,
    }
    return document


@pytest.mark.slow
async def test_a_big_project_with_its_ceremonies_round_trips(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = [f"dev{n:02d}" for n in range(20)]
    for name in people:
        await make_user(app, db, name)
    root = await make_user(app, db, "root", admin=True)
    document = big_ceremonies(10_000, people, 1_000)
    body = json.dumps({"key": "BIG", "document": document}).encode()
    began = time.perf_counter()
    imported = await client.post(
        IMPORT, content=body, headers={**root.headers, "Content-Type": "application/json"}
    )
    imported_in = time.perf_counter() - began
    assert imported.status_code == 201, imported.text[:2000]
    began = time.perf_counter()
    again = ok(await client.get("/api/v1/projects/BIG/export", headers=root.headers))
    exported_in = time.perf_counter() - began
    assert len(again["blockers"]) == 5_000
    assert len(again["risks"]) == len(document["risks"])
    assert len(again["standups"]["entries"]) == 20_000
    assert len(again["standups"]["summaries"]) == 1_000
    print(  # the figures to quote
        f"\nbig import: {len(body) / 1e6:.1f} MB in {imported_in:.1f} s; export {exported_in:.1f} s"
    )
    # Once exported by the server (which numbers references in order of appearance), the
    # document is a fixed point.
    ok(
        await client.post(IMPORT, json={"key": "BIG2", "document": again}, headers=root.headers),
        201,
    )
    third = ok(await client.get("/api/v1/projects/BIG2/export", headers=root.headers))
    assert_same_except_key(third, "BIG2", again)
    assert imported_in + exported_in < 120
