"""An incident's ETag names what its body shows: its environment's new name and its opener's
new display name give a new ETag (If-None-Match answers 200 with the new body) while its
`version` stays. If-Match takes the current ETag or `"v<version>"`; an ETag read before a rename
is stale (412)."""

from __future__ import annotations

from fastapi import FastAPI
from httpx import AsyncClient

from takt.core.db import Database
from tests.incidents.kit import environments, open_incident
from tests.support import team


async def test_a_renamed_environment_or_opener_gives_the_incident_a_new_etag(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    people = await team(app, db)
    ada, bob = people["ada"].headers, people["bob"].headers
    envs = await environments(db, people["ada"])
    made = await open_incident(client, people["bob"], environment="staging")
    url = f"/api/v1/incidents/{made['id']}"
    etag = (await client.get(url, headers=bob)).headers["etag"]
    assert (await client.get(url, headers={**bob, "If-None-Match": etag})).status_code == 304

    env_url = f"/api/v1/environments/{envs['staging']}"
    renamed = await client.patch(env_url, json={"name": "preprod"}, headers=ada)
    assert renamed.status_code == 200, renamed.text
    again = await client.get(url, headers={**bob, "If-None-Match": etag})
    assert again.status_code == 200, again.text
    assert again.json()["environment"] == "preprod"
    assert again.json()["version"] == made["version"]
    assert again.headers["etag"] != etag

    body = {"display_name": "Bob on Call"}
    assert (await client.patch("/api/v1/users/me", json=body, headers=bob)).status_code == 200
    third = await client.get(url, headers={**bob, "If-None-Match": again.headers["etag"]})
    assert third.status_code == 200, third.text
    assert third.json()["opened_by"]["display_name"] == "Bob on Call"
    assert third.headers["etag"] not in (etag, again.headers["etag"])
    cached = await client.get(url, headers={**bob, "If-None-Match": third.headers["etag"]})
    assert cached.status_code == 304

    refused = await client.patch(url, json={"severity": "sev1"}, headers={**bob, "If-Match": etag})
    assert refused.status_code == 412, refused.text
    patched = await client.patch(
        url, json={"severity": "sev1"}, headers={**bob, "If-Match": third.headers["etag"]}
    )
    assert patched.status_code == 200, patched.text
    assert patched.headers["etag"] == (await client.get(url, headers=bob)).headers["etag"]
    version = f'"v{patched.json()["version"]}"'
    again_patched = await client.patch(
        url, json={"severity": "sev3"}, headers={**bob, "If-Match": version}
    )
    assert again_patched.status_code == 200, again_patched.text
