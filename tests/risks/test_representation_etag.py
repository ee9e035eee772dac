"""A risk's ETag names what its body shows: its owner's new display name gives a new ETag
(If-None-Match answers 200 with the new body) while its `version` stays. If-Match takes the
current ETag or `"v<version>"`; an ETag read before the rename is stale (412)."""

from __future__ import annotations

from fastapi import FastAPI
from httpx import AsyncClient

from takt.core.db import Database
from tests.support import team

RISKS = "/api/v1/projects/API/risks"


async def test_a_renamed_owner_gives_the_risk_a_new_etag_and_stales_if_match(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    bob = people["bob"].headers
    body = {"title": "Sandbox late", "likelihood": 3, "impact": 3, "owner": "ada"}
    made = await client.post(RISKS, json=body, headers=bob)
    assert made.status_code == 201, made.text
    url = f"/api/v1/risks/{made.json()['id']}"
    etag = made.headers["etag"]
    assert (await client.get(url, headers={**bob, "If-None-Match": etag})).status_code == 304
    renamed = await client.patch(
        "/api/v1/users/me", json={"display_name": "Ada Owner"}, headers=people["ada"].headers
    )
    assert renamed.status_code == 200, renamed.text
    again = await client.get(url, headers={**bob, "If-None-Match": etag})
    assert again.status_code == 200, again.text
    assert again.json()["owner"]["display_name"] == "Ada Owner"
    assert again.json()["version"] == made.json()["version"]
    assert again.headers["etag"] != etag
    cached = await client.get(url, headers={**bob, "If-None-Match": again.headers["etag"]})
    assert cached.status_code == 304

    for method, change in (("PATCH", {"impact": 4}), ("DELETE", None)):
        refused = await client.request(method, url, json=change, headers={**bob, "If-Match": etag})
        assert refused.status_code == 412, refused.text
    patched = await client.patch(
        url, json={"impact": 4}, headers={**bob, "If-Match": again.headers["etag"]}
    )
    assert patched.status_code == 200, patched.text
    assert patched.headers["etag"] == (await client.get(url, headers=bob)).headers["etag"]
    version = f'"v{patched.json()["version"]}"'
    re_rated = await client.patch(url, json={"impact": 5}, headers={**bob, "If-Match": version})
    assert re_rated.status_code == 200, re_rated.text
    deleted = await client.delete(url, headers={**bob, "If-Match": re_rated.headers["etag"]})
    assert deleted.status_code == 204, deleted.text
