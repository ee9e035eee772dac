"""An item's ETag names what its body shows, rows of other tables too: a status renamed, a label
renamed, a sprint renamed, the assignee's new display name, a new Definition of Ready each give
a new ETag (If-None-Match answers 200 with the new body), while the item's `version` stays.
If-Match takes the current ETag, or `"v<version>"` (the item itself unchanged)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from takt.core.db import Database
from tests.support import Account, new_item, team

PROJECT = "/api/v1/projects/API"

Change = Callable[[AsyncClient, dict[str, Account], dict[str, Any]], Awaitable[None]]


async def _ok(response: Any) -> None:
    assert response.status_code in (200, 201), response.text


async def _rename_status(client: AsyncClient, people: dict[str, Account], item: Any) -> None:
    url = f"{PROJECT}/statuses/{item['status']['id']}"
    await _ok(await client.patch(url, json={"name": "Queued"}, headers=people["ada"].headers))


async def _rename_label(client: AsyncClient, people: dict[str, Account], item: Any) -> None:
    ada = people["ada"].headers
    labels = (await client.get(f"{PROJECT}/labels", headers=ada)).json()["data"]
    label = next(label for label in labels if label["name"] == "api")
    url = f"{PROJECT}/labels/{label['id']}"
    await _ok(await client.patch(url, json={"name": "backend"}, headers=ada))


async def _rename_sprint(client: AsyncClient, people: dict[str, Account], item: Any) -> None:
    url = f"/api/v1/sprints/{item['sprint_id']}"
    await _ok(await client.patch(url, json={"name": "April"}, headers=people["ada"].headers))


async def _rename_assignee(client: AsyncClient, people: dict[str, Account], item: Any) -> None:
    body = {"display_name": "Bob the Builder"}
    await _ok(await client.patch("/api/v1/users/me", json=body, headers=people["bob"].headers))


async def _add_to_ready(client: AsyncClient, people: dict[str, Account], item: Any) -> None:
    body = {"settings": {"definition_of_ready": [{"id": "designs", "text": "Designs"}]}}
    await _ok(await client.patch(PROJECT, json=body, headers=people["ada"].headers))


CHANGES: dict[str, tuple[Change, Callable[[Any], Any]]] = {
    "status renamed": (_rename_status, lambda item: item["status"]["name"]),
    "label renamed": (_rename_label, lambda item: item["labels"]),
    "sprint renamed": (_rename_sprint, lambda item: item["sprint"]["name"]),
    "assignee renamed": (_rename_assignee, lambda item: item["assignee"]["display_name"]),
    "definition of ready": (_add_to_ready, lambda item: item["missing"]),
}


async def _item(client: AsyncClient, people: dict[str, Account]) -> tuple[str, Any, str]:
    """An item showing a status, a label, a sprint and an assignee: its URL, body and ETag."""
    ada = people["ada"].headers
    await _ok(await client.post(f"{PROJECT}/labels", json={"name": "api"}, headers=ada))
    sprint = await client.post(f"{PROJECT}/sprints", json={"name": "March"}, headers=ada)
    await _ok(sprint)
    created = await new_item(
        client,
        people["ada"],
        labels=["api"],
        assignee="bob",
        sprint_id=sprint.json()["id"],
        estimate=3,
        description="Some text",
    )
    url = f"/api/v1/items/{created['key']}"
    read = await client.get(url, headers=ada)
    assert read.status_code == 200, read.text
    return url, read.json(), read.headers["etag"]


@pytest.mark.parametrize("change", list(CHANGES))
async def test_a_change_the_item_shows_from_elsewhere_gives_a_new_etag(
    client: AsyncClient, app: FastAPI, db: Database, change: str
) -> None:
    people = await team(app, db)
    ada = people["ada"].headers
    url, before, etag = await _item(client, people)
    assert (await client.get(url, headers={**ada, "If-None-Match": etag})).status_code == 304
    make, shown = CHANGES[change]
    await make(client, people, before)
    again = await client.get(url, headers={**ada, "If-None-Match": etag})
    assert again.status_code == 200, again.text
    assert shown(again.json()) != shown(before)
    assert again.json()["version"] == before["version"]  # the item itself did not change
    assert again.headers["etag"] != etag
    cached = await client.get(url, headers={**ada, "If-None-Match": again.headers["etag"]})
    assert cached.status_code == 304
    assert cached.headers["etag"] == again.headers["etag"]


async def test_if_match_takes_the_current_etag_after_a_change_elsewhere(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    ada = people["ada"].headers
    url, before, _ = await _item(client, people)
    await _rename_status(client, people, before)
    current = (await client.get(url, headers=ada)).headers["etag"]
    patched = await client.patch(url, json={"title": "New"}, headers={**ada, "If-Match": current})
    assert patched.status_code == 200, patched.text
    # The write's answer carries the ETag of what a read now shows, and it makes the next write.
    assert patched.headers["etag"] == (await client.get(url, headers=ada)).headers["etag"]
    ticked = await client.put(
        f"{url}/readiness",
        json={"checked": []},
        headers={**ada, "If-Match": patched.headers["etag"]},
    )
    assert ticked.status_code == 200, ticked.text
    deleted = await client.delete(url, headers={**ada, "If-Match": ticked.headers["etag"]})
    assert deleted.status_code == 204, deleted.text


async def test_if_match_with_an_etag_read_before_a_change_elsewhere_is_412(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    ada = people["ada"].headers
    url, before, etag = await _item(client, people)
    await _rename_label(client, people, before)
    writes: list[tuple[str, str, Any]] = [
        ("PATCH", url, {"title": "New"}),
        ("PUT", f"{url}/readiness", {"checked": []}),
        ("DELETE", url, None),
    ]
    for method, path, body in writes:
        headers = {**ada, "If-Match": etag}
        refused = await client.request(method, path, json=body, headers=headers)
        assert refused.status_code == 412, refused.text
        assert refused.json()["code"] == "version-conflict"
    after = await client.get(url, headers=ada)
    assert after.json()["title"] == before["title"]
    assert after.json()["version"] == before["version"]


async def test_if_match_takes_the_items_version_whatever_it_shows(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    """`"v<version>"` (what a list or the board gives: they carry `version`, not ETags) names the
    item itself: a change elsewhere doesn't make it stale, a change of the item does."""
    people = await team(app, db)
    ada = people["ada"].headers
    url, before, _ = await _item(client, people)
    version = f'"v{before["version"]}"'
    await _rename_status(client, people, before)
    patched = await client.patch(url, json={"title": "New"}, headers={**ada, "If-Match": version})
    assert patched.status_code == 200, patched.text
    stale = await client.patch(url, json={"title": "Again"}, headers={**ada, "If-Match": version})
    assert stale.status_code == 412, stale.text
    # Several tags: the write goes ahead when one of them is current.
    both = f"{version}, {patched.headers['etag']}"
    again = await client.patch(url, json={"title": "Again"}, headers={**ada, "If-Match": both})
    assert again.status_code == 200, again.text


async def test_a_viewer_with_a_stale_if_match_is_refused_for_the_role_first(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    url, before, etag = await _item(client, people)
    await _rename_status(client, people, before)
    headers = {**people["vic"].headers, "If-Match": etag}
    assert (await client.patch(url, json={"title": "x"}, headers=headers)).status_code == 403
