"""A blocker's ETag names what its body shows: a person's new display name, and its age in
working hours, give a new ETag (If-None-Match answers 200 with the new body) while its
`version` stays. If-Match takes its current ETag at any age, or `"v<version>"`; an ETag read
before a rename is stale (412)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient

from takt.core.db import Database
from takt.core.time import clock_at
from tests.blockers.kit import an_item, raise_on, use_calendar
from tests.support import Account, team

# Monday 2 March 2026, 09:00 in Berlin (the kit's calendar: Monday to Friday, 09:00-17:00).
MONDAY_9 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
MONDAY_10 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
MONDAY_11 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


async def _blocker(client: AsyncClient, people: dict[str, Account]) -> tuple[str, Any, str]:
    """A blocker raised by bob, waiting on ada, read an hour later: its URL, body and ETag."""
    await use_calendar(client, people["ada"])
    key = await an_item(client, people["bob"])
    waiting = {"kind": "person", "user": "ada"}
    made = await raise_on(client, people["bob"], key, at=MONDAY_9, waiting_on=waiting)
    url = f"/api/v1/blockers/{made['id']}"
    with clock_at(MONDAY_10):
        read = await client.get(url, headers=people["bob"].headers)
    assert read.status_code == 200, read.text
    return url, read.json(), read.headers["etag"]


async def _rename_ada(client: AsyncClient, people: dict[str, Account]) -> None:
    body = {"display_name": "Ada the Reviewer"}
    renamed = await client.patch("/api/v1/users/me", json=body, headers=people["ada"].headers)
    assert renamed.status_code == 200, renamed.text


async def test_a_renamed_person_gives_the_blocker_a_new_etag(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    bob = people["bob"].headers
    url, before, etag = await _blocker(client, people)
    with clock_at(MONDAY_10):
        assert (await client.get(url, headers={**bob, "If-None-Match": etag})).status_code == 304
        await _rename_ada(client, people)
        again = await client.get(url, headers={**bob, "If-None-Match": etag})
        assert again.status_code == 200, again.text
        assert again.json()["waiting_on"]["user"]["display_name"] == "Ada the Reviewer"
        assert again.json()["version"] == before["version"]
        assert again.headers["etag"] != etag
        cached = await client.get(url, headers={**bob, "If-None-Match": again.headers["etag"]})
        assert cached.status_code == 304
        assert cached.headers["etag"] == again.headers["etag"]


async def test_an_older_blocker_has_a_new_etag_that_if_match_takes_at_any_age(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    bob = people["bob"].headers
    url, before, etag = await _blocker(client, people)
    assert before["age_working_hours"] == 1.0
    with clock_at(MONDAY_11):
        older = await client.get(url, headers={**bob, "If-None-Match": etag})
        assert older.status_code == 200, older.text
        assert older.json()["age_working_hours"] == 2.0
        assert older.headers["etag"] != etag
        # Time passing changes nothing a write could lose: the tag read an hour ago still works.
        patched = await client.patch(
            url, json={"reason": "Still waiting"}, headers={**bob, "If-Match": etag}
        )
    assert patched.status_code == 200, patched.text


async def test_if_match_takes_the_current_etag_or_the_version_and_refuses_a_stale_etag(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    bob = people["bob"].headers
    url, _, stale = await _blocker(client, people)
    with clock_at(MONDAY_10):
        await _rename_ada(client, people)
        refused = await client.patch(
            url, json={"reason": "Lost"}, headers={**bob, "If-Match": stale}
        )
        assert refused.status_code == 412, refused.text
        assert refused.json()["code"] == "version-conflict"
        current = (await client.get(url, headers=bob)).headers["etag"]
        patched = await client.patch(
            url, json={"reason": "Sandbox keys"}, headers={**bob, "If-Match": current}
        )
        assert patched.status_code == 200, patched.text
        assert patched.headers["etag"] == (await client.get(url, headers=bob)).headers["etag"]
        version = f'"v{patched.json()["version"]}"'
        resolved = await client.post(
            f"{url}/resolve", json={}, headers={**bob, "If-Match": version}
        )
        assert resolved.status_code == 200, resolved.text
        refused = await client.post(f"{url}/resolve", json={}, headers={**bob, "If-Match": stale})
    assert refused.status_code == 412, refused.text
    assert resolved.json()["reason"] == "Sandbox keys"
