"""A sprint's rules hold when requests race (each request its own transaction; on PostgreSQL
they really overlap, on SQLite writes take turns): it starts, completes or ends once; a
completed sprint keeps exactly its finished items; default dates follow the last sprint.
(At most one active sprint per project: tests/sprints/test_scripted.py.)"""

from __future__ import annotations

import asyncio
import itertools
from datetime import date
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient, Response
from sqlalchemy import func, select

from takt.core.db import Database
from takt.core.events import Event
from takt.sprints.models import Sprint
from tests.support import Account, new_item, team

SPRINTS = "/api/v1/projects/API/sprints"


async def _sprint(client: AsyncClient, who: Account, name: str = "One") -> str:
    created = await client.post(SPRINTS, json={"name": name}, headers=who.headers)
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


async def _started(client: AsyncClient, who: Account, *keys: str) -> str:
    """A sprint holding `keys`, started."""
    sprint_id = await _sprint(client, who)
    if keys:
        added = await client.post(
            f"/api/v1/sprints/{sprint_id}/items",
            json={"item_keys": list(keys)},
            headers=who.headers,
        )
        assert added.status_code == 200, added.text
    started = await client.post(f"/api/v1/sprints/{sprint_id}/start", headers=who.headers)
    assert started.status_code == 200, started.text
    return sprint_id


async def _item(client: AsyncClient, who: Account, key: str) -> dict[str, Any]:
    response = await client.get(f"/api/v1/items/{key}", headers=who.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _sprint_read(client: AsyncClient, who: Account, sprint_id: str) -> dict[str, Any]:
    response = await client.get(f"/api/v1/sprints/{sprint_id}", headers=who.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _events(db: Database, type_: str) -> int:
    async with db.transaction() as session:
        count = await session.scalar(
            select(func.count()).select_from(Event).where(Event.type == type_)
        )
    return int(count or 0)


def _complete(client: AsyncClient, who: Account, sprint_id: str, to: str = "backlog") -> Any:
    return client.post(
        f"/api/v1/sprints/{sprint_id}/complete", json={"carry_over_to": to}, headers=who.headers
    )


def _codes(answers: list[Response]) -> list[int]:
    return sorted(a.status_code for a in answers)


async def test_concurrent_starts_of_one_sprint_start_it_once(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    sprint_id = await _sprint(client, ada)
    answers = await asyncio.gather(
        *(client.post(f"/api/v1/sprints/{sprint_id}/start", headers=ada.headers) for _ in range(4))
    )
    assert _codes(answers) == [200, 409, 409, 409], [a.text for a in answers]
    assert {a.json()["code"] for a in answers if a.status_code == 409} == {"invalid-sprint-state"}
    assert await _events(db, "sprint.started") == 1


async def test_concurrent_completes_complete_once_and_make_one_next_sprint(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    key = (await new_item(client, ada))["key"]
    sprint_id = await _started(client, ada, key)
    answers = await asyncio.gather(*(_complete(client, ada, sprint_id, "next") for _ in range(4)))
    assert _codes(answers) == [200, 409, 409, 409], [a.text for a in answers]
    assert await _events(db, "sprint.completed") == 1
    async with db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Sprint)) == 2
    report = (await _sprint_read(client, ada, sprint_id))["report"]
    assert report["carried_over"]["items"] == 1
    assert (await _item(client, ada, key))["sprint_id"] == report["carried_over_to"]


async def test_complete_and_cancel_at_once_end_the_sprint_once(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    sprint_id = await _started(client, ada, (await new_item(client, ada))["key"])
    completed, cancelled = await asyncio.gather(
        _complete(client, ada, sprint_id),
        client.post(f"/api/v1/sprints/{sprint_id}/cancel", headers=ada.headers),
    )
    assert sorted([completed.status_code, cancelled.status_code]) == [200, 409]
    state = (await _sprint_read(client, ada, sprint_id))["state"]
    assert state == ("completed" if completed.status_code == 200 else "cancelled")
    ended = await _events(db, "sprint.completed") + await _events(db, "sprint.cancelled")
    assert ended == 1


async def test_items_added_while_the_sprint_completes_are_not_left_in_it(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    """Added first, an unfinished item is carried over with the rest; added after, it is
    refused (a completed sprint is read-only). Never left behind in the completed sprint."""
    ada = (await team(app, db))["ada"]
    sprint_id = await _started(client, ada, (await new_item(client, ada))["key"])
    late = [(await new_item(client, ada))["key"] for _ in range(3)]
    completed, *added = await asyncio.gather(
        _complete(client, ada, sprint_id),
        *(
            client.post(
                f"/api/v1/sprints/{sprint_id}/items", json={"item_keys": [key]}, headers=ada.headers
            )
            for key in late
        ),
    )
    assert completed.status_code == 200, completed.text
    assert {a.status_code for a in added} <= {200, 409}, [a.text for a in added]
    report = (await _sprint_read(client, ada, sprint_id))["report"]
    joined = sum(a.status_code == 200 for a in added)
    assert report["carried_over"]["items"] == 1 + joined
    for key in late:
        assert (await _item(client, ada, key))["sprint_id"] is None


async def test_an_item_moved_into_the_sprint_while_it_completes_is_not_left_in_it(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    sprint_id = await _started(client, ada, (await new_item(client, ada))["key"])
    late = [(await new_item(client, ada))["key"] for _ in range(3)]
    completed, *moved = await asyncio.gather(
        _complete(client, ada, sprint_id),
        *(
            client.patch(f"/api/v1/items/{key}", json={"sprint_id": sprint_id}, headers=ada.headers)
            for key in late
        ),
    )
    assert completed.status_code == 200, completed.text
    assert {m.status_code for m in moved} <= {200, 409}, [m.text for m in moved]
    report = (await _sprint_read(client, ada, sprint_id))["report"]
    assert report["carried_over"]["items"] == 1 + sum(m.status_code == 200 for m in moved)
    for key in late:
        assert (await _item(client, ada, key))["sprint_id"] is None


async def test_an_item_finished_while_the_sprint_completes_is_counted_as_it_ended(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    """Finished first, the item stays with the sprint as completed; finished after, it was
    carried over unfinished. The report and where the item is agree either way."""
    ada = (await team(app, db))["ada"]
    keys = [(await new_item(client, ada))["key"] for _ in range(3)]
    sprint_id = await _started(client, ada, *keys)
    *finished, completed = await asyncio.gather(
        *(
            client.patch(f"/api/v1/items/{key}", json={"status": "Done"}, headers=ada.headers)
            for key in keys
        ),
        _complete(client, ada, sprint_id),
    )
    assert completed.status_code == 200, completed.text
    assert [f.status_code for f in finished] == [200] * 3, [f.text for f in finished]
    report = (await _sprint_read(client, ada, sprint_id))["report"]
    kept = {key for key in keys if (await _item(client, ada, key))["sprint_id"] == sprint_id}
    assert report["completed"]["items"] == len(kept)
    assert report["carried_over"]["items"] == len(keys) - len(kept)
    # Kept are exactly the items finished before the completion (in the log's order, which is
    # the order the writes committed in: each waited for the other's locks).
    async with db.transaction() as session:
        log = (
            await session.execute(
                select(Event.type, Event.data, Event.changes)
                .where(Event.type.in_(["item.updated", "sprint.completed"]))
                .order_by(Event.seq)
            )
        ).all()
    ended = next(n for n, (type_, _, _) in enumerate(log) if type_ == "sprint.completed")
    finished_first = {
        data["key"] for _, data, changes in log[:ended] if "status" in (changes or {})
    }
    assert kept == finished_first


async def test_an_item_removed_while_the_sprint_completes_is_removed_or_carried(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    """Removed first, the item is in the backlog and not carried over; the sprint completed
    first, the item was carried to the next sprint and the removal is refused (409: a completed
    sprint is read-only), never taking it out of the next one."""
    ada = (await team(app, db))["ada"]
    keys = [(await new_item(client, ada))["key"] for _ in range(3)]
    sprint_id = await _started(client, ada, *keys)
    completed, *removed = await asyncio.gather(
        _complete(client, ada, sprint_id, "next"),
        *(
            client.delete(f"/api/v1/sprints/{sprint_id}/items/{key}", headers=ada.headers)
            for key in keys
        ),
    )
    assert completed.status_code == 200, completed.text
    assert {r.status_code for r in removed} <= {204, 409}, [r.text for r in removed]
    report = (await _sprint_read(client, ada, sprint_id))["report"]
    for key, answer in zip(keys, removed, strict=True):
        where = (await _item(client, ada, key))["sprint_id"]
        assert where == (None if answer.status_code == 204 else report["carried_over_to"])
    assert report["carried_over"]["items"] == sum(r.status_code == 409 for r in removed)


async def test_items_added_while_the_sprint_starts_are_committed_or_scope_change(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    """Added first, an item is in the commitment; added after the start, it is scope added.
    Either way the sprint's numbers account for it."""
    ada = (await team(app, db))["ada"]
    sprint_id = await _sprint(client, ada)
    keys = [(await new_item(client, ada, estimate=3))["key"] for _ in range(3)]
    started, *added = await asyncio.gather(
        client.post(f"/api/v1/sprints/{sprint_id}/start", headers=ada.headers),
        *(
            client.post(
                f"/api/v1/sprints/{sprint_id}/items", json={"item_keys": [key]}, headers=ada.headers
            )
            for key in keys
        ),
    )
    assert [a.status_code for a in (started, *added)] == [200] * 4, [a.text for a in added]
    completed = await _complete(client, ada, sprint_id)
    report = completed.json()["report"]
    assert report["committed"]["items"] + report["added"]["items"] == 3
    assert report["committed"]["points"] + report["added"]["points"] == 9


async def test_items_moved_out_while_the_sprint_starts_are_not_committed_or_are_removed(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    """Moved out first, an item is not in the commitment; moved out after the start, it is
    scope removed. The sprint's numbers add up either way."""
    ada = (await team(app, db))["ada"]
    sprint_id = await _sprint(client, ada)
    keys = [(await new_item(client, ada, estimate=3))["key"] for _ in range(3)]
    added = await client.post(
        f"/api/v1/sprints/{sprint_id}/items", json={"item_keys": keys}, headers=ada.headers
    )
    assert added.status_code == 200, added.text
    *moved, started = await asyncio.gather(
        *(
            client.patch(f"/api/v1/items/{key}", json={"sprint_id": None}, headers=ada.headers)
            for key in keys
        ),
        client.post(f"/api/v1/sprints/{sprint_id}/start", headers=ada.headers),
    )
    assert [a.status_code for a in (*moved, started)] == [200] * 4, [a.text for a in moved]
    report = (await _complete(client, ada, sprint_id)).json()["report"]
    assert report["committed"]["items"] - report["removed"]["items"] == 0
    assert report["committed"]["points"] - report["removed"]["points"] == 0


async def test_capacity_set_while_the_sprint_completes_is_in_its_report_or_refused(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    """Set first, the report's person-days count it; the sprint completed first, its capacity
    is frozen (409). Never changed after the report was taken."""
    people = await team(app, db)
    ada = people["ada"]
    for _ in range(3):
        sprint_id = await _started(client, ada, (await new_item(client, ada))["key"])
        *changed, completed = await asyncio.gather(
            *(
                client.put(
                    f"/api/v1/sprints/{sprint_id}/capacity/{people[name].id}",
                    json={"allocation": 0.5},
                    headers=ada.headers,
                )
                for name in ("ada", "bob")
            ),
            _complete(client, ada, sprint_id),
        )
        assert completed.status_code == 200, completed.text
        assert {c.status_code for c in changed} <= {200, 204, 409}, [c.text for c in changed]
        capacity = await client.get(f"/api/v1/sprints/{sprint_id}/capacity", headers=ada.headers)
        assert completed.json()["report"]["person_days"] == capacity.json()["person_days"]


async def test_sprints_planned_at_once_without_dates_follow_each_other(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = (await team(app, db))["ada"]
    answers = await asyncio.gather(
        *(client.post(SPRINTS, json={"name": f"Sprint {n}"}, headers=ada.headers) for n in range(4))
    )
    assert _codes(answers) == [201] * 4, [a.text for a in answers]
    spans = sorted(
        (date.fromisoformat(a.json()["start_date"]), date.fromisoformat(a.json()["end_date"]))
        for a in answers
    )
    for (_, end), (start, _) in itertools.pairwise(spans):
        assert (start - end).days == 1, spans
