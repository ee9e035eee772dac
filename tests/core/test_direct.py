"""Direct reads (takt.core.direct): the project detail, the item detail and the unfiltered item
list answered from their statements on the driver give the framework's answers exactly, and
decline whatever they can't answer."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient, Response
from sqlalchemy import bindparam, func, select, update
from starlette.requests import Request
from starlette.routing import Match, Router

from takt.auth.models import PersonalAccessToken
from takt.config import Settings
from takt.core.db import Database
from takt.core.direct import DirectReader, DirectRoute, detached_entity
from takt.core.errors import ServiceUnavailable, ValidationFailed
from takt.items import search
from takt.projects import repository
from takt.projects.models import Project
from tests.support import (
    Account,
    QueryCounter,
    add_member,
    bearer,
    make_pat,
    make_project,
    make_user,
    new_item,
)

PROJECT = "/api/v1/projects/API"


def _require_postgres(db: Database) -> None:
    if db.direct is None:
        pytest.skip("direct reads run on PostgreSQL only")


def _comparable(response: Response) -> tuple[int, Any, dict[str, str]]:
    """Status, body and headers, without what differs per request by design."""
    headers = {
        k: v
        for k, v in response.headers.items()
        if k not in {"x-request-id", "ratelimit-remaining", "ratelimit-reset", "date"}
    }
    body = response.json() if response.content else None
    if isinstance(body, dict):
        body.pop("request_id", None)  # a problem names its request
    return response.status_code, body, headers


async def _twice(
    client: AsyncClient,
    app: FastAPI,
    path: str,
    headers: dict[str, str],
    db: Database,
    *,
    direct: int = 1,
) -> tuple[Response, Response, int]:
    """The first request (the caller not cached yet: the framework answers) and the second
    (the caller cached: the direct path answers, with `direct` statements), and how many
    statements the second one ran through SQLAlchemy's session rather than on the direct
    path."""
    app.state.security.principals.clear()  # the first request resolves the caller afresh
    first = await client.get(path, headers=headers)
    with QueryCounter(db) as counter:
        second = await client.get(path, headers=headers)
    assert len(counter.direct) == direct
    return first, second, counter.count - len(counter.direct)


ROLES = ["admin", "member", "viewer", "instance-admin", "stranger"]


async def _caller(
    app: FastAPI, db: Database, project_id: str, admin: Account, role: str
) -> Account:
    """Someone with `role` towards the project `admin` made (one of ROLES)."""
    if role in ("member", "viewer"):
        caller = await make_user(app, db, "bob")
        await add_member(db, project_id, caller, role)
        return caller
    if role == "instance-admin":
        return await make_user(app, db, "root", admin=True)
    if role == "stranger":
        return await make_user(app, db, "sam")
    return admin


def test_the_direct_route_is_installed_on_postgresql_only(app: FastAPI, db: Database) -> None:
    direct = [route for route in app.router.routes if isinstance(route, DirectRoute)]
    if db.dialect == "postgresql":
        assert [route.path for route in direct] == [
            "/api/v1/projects/{project_key}",
            "/api/v1/items/{item_key}",
            "/api/v1/projects/{project_key}/items",
        ]
        assert app.router.routes[: len(direct)] == direct
    else:
        assert db.direct is None
        assert direct == []


@pytest.mark.parametrize("role", ROLES)
async def test_the_direct_item_is_the_framework_item(
    client: AsyncClient, app: FastAPI, db: Database, role: str
) -> None:
    _require_postgres(db)
    ada = await make_user(app, db, "ada")
    project_id = await make_project(db, ada, "API")
    labels = await client.post(
        "/api/v1/projects/API/labels", json={"name": "backend"}, headers=ada.headers
    )
    assert labels.status_code == 201
    parent = await new_item(client, ada, type="story")
    item = await new_item(
        client,
        ada,
        type="bug",
        description='Steps: sign in, reload. Ünïcode \u2014 and "quotes".',
        estimate=0.5,
        priority="high",
        assignee="ada",
        labels=["backend"],
        parent_key=parent["key"],
    )
    caller = await _caller(app, db, project_id, ada, role)
    path = f"/api/v1/items/{item['key']}"

    framework, direct, statements = await _twice(client, app, path, caller.headers, db)

    assert statements == 0  # the direct path answered
    assert _comparable(direct) == _comparable(framework)
    if role == "stranger":
        assert direct.status_code == 404
    else:
        assert direct.status_code == 200
        assert direct.json()["estimate"] == 0.5
        assert direct.json()["labels"] == ["backend"]
        assert direct.json()["parent_key"] == parent["key"]
        etag = direct.headers["etag"]
        again = await client.get(path, headers={**caller.headers, "If-None-Match": etag})
        assert again.status_code == 304


async def test_a_missing_item_is_not_found_on_the_direct_path(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    _require_postgres(db)
    ada = await make_user(app, db, "ada")
    await make_project(db, ada, "API")

    framework, direct, statements = await _twice(
        client, app, "/api/v1/items/API-404", ada.headers, db
    )

    assert statements == 0
    assert direct.status_code == 404
    assert _comparable(direct) == _comparable(framework)


@pytest.mark.parametrize("role", ROLES)
async def test_the_direct_answer_is_the_framework_answer(
    client: AsyncClient, app: FastAPI, db: Database, role: str
) -> None:
    _require_postgres(db)
    ada = await make_user(app, db, "ada")
    project_id = await make_project(db, ada, "API")
    caller = await _caller(app, db, project_id, ada, role)

    framework, direct, statements = await _twice(client, app, PROJECT, caller.headers, db)

    assert statements == 0  # the direct path answered
    assert _comparable(direct) == _comparable(framework)
    if role == "stranger":
        assert direct.status_code == 404
        assert direct.headers["content-type"] == "application/problem+json"
    else:
        assert direct.status_code == 200
        expected_role = None if role == "instance-admin" else role
        assert direct.json()["role"] == expected_role
        assert direct.headers["etag"].startswith('"v1-')


async def test_a_deleted_project_is_not_found_on_the_direct_path(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    _require_postgres(db)
    ada = await make_user(app, db, "ada")
    await make_project(db, ada, "API")
    assert (await client.delete(PROJECT, headers=ada.headers)).status_code == 204

    framework, direct, statements = await _twice(client, app, PROJECT, ada.headers, db)

    assert statements == 0
    assert direct.status_code == 404
    assert _comparable(direct) == _comparable(framework)


async def test_if_none_match_answers_304_on_the_direct_path(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    _require_postgres(db)
    ada = await make_user(app, db, "ada")
    await make_project(db, ada, "API")
    etag = (await client.get(PROJECT, headers=ada.headers)).headers["etag"]

    with QueryCounter(db) as counter:
        current = await client.get(PROJECT, headers={**ada.headers, "If-None-Match": etag})
        stale = await client.get(PROJECT, headers={**ada.headers, "If-None-Match": '"v0"'})

    assert counter.count == len(counter.direct) == 2
    assert current.status_code == 304
    assert current.headers["etag"] == etag
    assert current.content == b""
    assert stale.status_code == 200
    app.state.security.principals.clear()  # the next caller is resolved: the framework answers
    framework = await client.get(PROJECT, headers={**ada.headers, "If-None-Match": etag})
    assert _comparable(current) == _comparable(framework)


async def test_the_direct_pool_connects_as_the_engine_does(
    settings: Settings, db: Database
) -> None:
    _require_postgres(db)
    with_options = Database.from_settings(
        settings, url=db.url + "?prepared_statement_cache_size=50&command_timeout=20"
    )
    without_prepared = Database.from_settings(
        settings, url=db.url + "?prepared_statement_cache_size=0"
    )
    try:
        assert with_options.direct is not None
        assert with_options.direct.connect["command_timeout"] == "20"
        assert "prepared_statement_cache_size" not in with_options.direct.connect
        statement = select(func.current_setting("application_name").label("name"))
        assert await with_options.direct.first(statement, {}) == ("takt",)
        assert without_prepared.direct is None  # PgBouncer in transaction mode: no direct reads
    finally:
        await with_options.dispose()
        await without_prepared.dispose()


async def test_a_change_shows_at_once_on_the_direct_path(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    _require_postgres(db)
    ada = await make_user(app, db, "ada")
    await make_project(db, ada, "API")
    await client.get(PROJECT, headers=ada.headers)
    changed = await client.patch(PROJECT, json={"name": "Renamed"}, headers=ada.headers)
    assert changed.status_code == 200

    with QueryCounter(db) as counter:
        read = await client.get(PROJECT, headers=ada.headers)

    assert len(counter.direct) == counter.count == 1
    assert read.json()["name"] == "Renamed"
    assert read.headers["etag"] == changed.headers["etag"]
    assert read.headers["etag"].startswith('"v2-')


async def test_each_request_counts_once_against_the_rate_limit(
    client: AsyncClient, app: FastAPI, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    _require_postgres(db)
    monkeypatch.setattr(app.state.settings, "rate_limit_per_minute", 3)
    ada = await make_user(app, db, "ada")
    await make_project(db, ada, "API")

    answers = [await client.get(PROJECT, headers=ada.headers)]  # the framework's
    with QueryCounter(db) as counter:
        answers += [await client.get(PROJECT, headers=ada.headers) for _ in range(3)]

    assert len(counter.direct) == 2  # the 429 runs no statement
    assert counter.count == 2
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.headers["ratelimit-remaining"] for a in answers] == ["2", "1", "0", "0"]
    assert answers[3].headers["content-type"] == "application/problem+json"
    assert "retry-after" in answers[3].headers


async def test_the_framework_answers_what_the_direct_path_declines(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    _require_postgres(db)
    ada = await make_user(app, db, "ada")
    await make_project(db, ada, "API")
    await make_project(db, ada, "WEB")
    _, limited = await make_pat(app, db, ada, ["read"], projects=["WEB"])
    await client.get(PROJECT, headers=ada.headers)  # ada is cached from here on

    cases = {
        "no token": (PROJECT, {}),
        "a token limited to another project": (PROJECT, bearer(limited)),
        "a token limited to this project": ("/api/v1/projects/WEB", bearer(limited)),
        "a key longer than 64": ("/api/v1/projects/" + "K" * 65, ada.headers),
        "an If-None-Match longer than 256": (
            PROJECT,
            {**ada.headers, "If-None-Match": '"' + "v" * 300 + '"'},
        ),
    }
    statuses = {}
    for case, (path, headers) in cases.items():
        await client.get(path, headers=headers)  # cached, where it can be
        with QueryCounter(db) as counter:
            answer = await client.get(path, headers=headers)
        statuses[case] = answer.status_code
        assert counter.direct == [], case  # the framework answered

    assert statuses == {
        "no token": 401,
        "a token limited to another project": 404,
        "a token limited to this project": 200,
        "a key longer than 64": 422,
        "an If-None-Match longer than 256": 422,
    }


async def test_a_token_due_its_last_use_write_takes_the_framework_path(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    _require_postgres(db)
    ada = await make_user(app, db, "ada")
    await make_project(db, ada, "API")
    token_id, secret = await make_pat(app, db, ada, ["read"])
    assert (await client.get(PROJECT, headers=bearer(secret))).status_code == 200
    long_ago = datetime.now(UTC) - timedelta(days=2)
    async with db.transaction() as session:
        await session.execute(
            update(PersonalAccessToken)
            .where(PersonalAccessToken.id == token_id)
            .values(last_used_at=long_ago)
        )
    # The cached principal still says "used long ago": the next read must record its use.
    cache = app.state.security.principals
    key = cache.key(secret)
    cached = cache.get(key)
    assert cached is not None
    cache.replace(key, replace(cached, token_last_used_at=long_ago))

    assert (await client.get(PROJECT, headers=bearer(secret))).status_code == 200

    async with db.transaction(write=False) as session:
        used = await session.scalar(
            select(PersonalAccessToken.last_used_at).where(PersonalAccessToken.id == token_id)
        )
    assert used is not None
    assert used > long_ago + timedelta(days=1)


async def test_the_direct_read_gives_the_project_as_the_orm_loads_it(
    app: FastAPI, db: Database
) -> None:
    _require_postgres(db)
    assert db.direct is not None
    ada = await make_user(app, db, "ada")
    await make_project(db, ada, "API")
    from takt.auth.principal import Principal

    principal = Principal.of(ada.user)

    direct = await repository.direct_visible_project(db.direct, principal, "API")
    async with db.transaction(write=False) as session:
        loaded = await repository.get_visible_project(session, principal, "API")

    assert direct is not None
    assert loaded is not None
    columns = [c.key for c in Project.__table__.columns]
    assert {c: getattr(direct[0], c) for c in columns} == {
        c: getattr(loaded[0], c) for c in columns
    }
    assert direct[1] == loaded[1] == "admin"
    assert direct[0].created_at.tzinfo is not None  # UTCDateTime's result processor ran
    assert isinstance(direct[0].settings, dict)  # JSON decoded
    assert await repository.direct_visible_project(db.direct, principal, "NOPE") is None


def test_a_detached_entity_holds_its_values_in_no_session() -> None:
    project = detached_entity(Project, {"key": "API", "name": "Public API", "version": 3})

    assert (project.key, project.name, project.version) == ("API", "Public API", 3)
    from sqlalchemy import inspect

    assert inspect(project).session is None


async def test_a_database_out_of_reach_is_a_503(db: Database) -> None:
    _require_postgres(db)
    assert db.direct is not None
    unreachable = DirectReader(
        {"host": "127.0.0.1", "port": 1, "user": "postgres", "database": "none"},
        db.write_engine.dialect,
        server_settings={},
        json_deserializer=lambda text: text,
    )
    statement = select(Project.key).where(Project.key == "API")
    with pytest.raises(ServiceUnavailable):
        await unreachable.first(statement, {})
    await unreachable.close()


@pytest.mark.parametrize(
    ("sqlstate", "message"),
    [
        ("53300", "sorry, too many clients already"),  # max_connections reached
        ("57P03", "the database system is starting up"),  # a restart or a failover
    ],
)
async def test_a_database_that_turns_connections_away_for_now_is_a_503(
    db: Database, sqlstate: str, message: str
) -> None:
    """PostgreSQL answers a new connection with a FATAL error while it is full or starting up
    (what this fake server sends): the direct read's pool then can't connect, as when the server
    is out of reach, and the answer is the same 503 problem, not the generic 500."""
    _require_postgres(db)
    fields = b"SFATAL\0VFATAL\0C" + sqlstate.encode() + b"\0M" + message.encode() + b"\0\0"
    error = b"E" + (len(fields) + 4).to_bytes(4, "big") + fields

    async def turn_away(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            length = int.from_bytes(await reader.readexactly(4), "big")
            code = int.from_bytes((await reader.readexactly(length - 4))[:4], "big")
            if code != 80877103:  # not an SSLRequest: the startup message
                break
            writer.write(b"N")  # no TLS here
        writer.write(error)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(turn_away, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    turned_away = DirectReader(
        {"host": "127.0.0.1", "port": port, "user": "postgres", "database": "none"},
        db.write_engine.dialect,
        server_settings={},
        json_deserializer=lambda text: text,
    )
    try:
        with pytest.raises(ServiceUnavailable):
            await turned_away.first(select(Project.key).where(Project.key == "API"), {})
    finally:
        await turned_away.close()
        server.close()
        await server.wait_closed()


async def test_a_value_the_database_refuses_is_a_422(db: Database) -> None:
    _require_postgres(db)
    assert db.direct is not None
    statement = select(Project.key).where(Project.version == bindparam("version"))
    with pytest.raises(ValidationFailed):
        await db.direct.first(statement, {"version": 2**40})  # out of int4's range


async def test_a_revoked_token_is_refused_at_once_on_the_direct_path(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    _require_postgres(db)
    ada = await make_user(app, db, "ada")
    await make_project(db, ada, "API")
    token_id, secret = await make_pat(app, db, ada, ["read"])
    await client.get(PROJECT, headers=bearer(secret))  # cached from here on
    with QueryCounter(db) as counter:
        assert (await client.get(PROJECT, headers=bearer(secret))).status_code == 200
    assert len(counter.direct) == 1

    revoked = await client.delete(f"/api/v1/users/me/tokens/{token_id}", headers=ada.headers)
    assert revoked.status_code == 204

    assert (await client.get(PROJECT, headers=bearer(secret))).status_code == 401


@pytest.mark.parametrize(
    ("method", "path", "claimed"),
    [
        ("GET", "/api/v1/projects/API", {"project_key": "API"}),
        ("GET", "/api/v1/projects/ÜBER", {"project_key": "ÜBER"}),
        ("HEAD", "/api/v1/projects/API", None),
        ("GET", "/api/v1/projects/API/", None),
        ("GET", "/api/v1/projects/", None),
        ("GET", "/api/v1/projects/API/items", None),
        ("GET", "/api/v1/projects", None),
    ],
)
def test_a_direct_route_claims_the_paths_of_its_template_only(
    method: str, path: str, claimed: dict[str, str] | None
) -> None:
    route = DirectRoute("/api/v1/projects/{project_key}", _never, Router(), _unused_reader())
    scope = {"type": "http", "method": method, "path": path, "root_path": ""}

    match, child = route.matches(scope)

    if claimed is None:
        assert match is Match.NONE
    else:
        assert match is Match.FULL
        assert child["path_params"] == claimed
        assert child["route"] is route


async def _never(_request: Request, _reader: DirectReader) -> None:
    raise AssertionError("not called")


def _unused_reader() -> DirectReader:
    from sqlalchemy.dialects.postgresql.asyncpg import dialect

    pg = dialect()  # type: ignore[no-untyped-call]
    return DirectReader({}, pg, server_settings={}, json_deserializer=str)


# The item list (`GET /projects/{key}/items`) without a filter -----------------------------------

ITEMS = "/api/v1/projects/API/items"
# Every sort of the list; "-priority" runs its keys both ways, so its cursor's values are bound
# in an OR-chain rather than one row comparison.
SORTS = list(search.SORTS)


async def _a_varied_backlog(client: AsyncClient, ada: Account) -> None:
    """Items that show everything a summary can: labels, an assignee, a parent, an estimate,
    priorities that tie (so the sorts' later keys decide), one changed after it was made."""
    labels = await client.post(
        "/api/v1/projects/API/labels", json={"name": "backend"}, headers=ada.headers
    )
    assert labels.status_code == 201
    parent = await new_item(client, ada, type="story", priority="high")
    await new_item(client, ada, type="bug", priority="high", labels=["backend"], assignee="ada")
    await new_item(client, ada, estimate=3, description="Why", parent_key=parent["key"])
    for title in ('Ünïcode \u2014 "quoted"', "Plain", "Another"):
        await new_item(client, ada, title=title, priority="low")
    changed = await client.patch(
        f"/api/v1/items/{parent['key']}", json={"title": "Renamed"}, headers=ada.headers
    )
    assert changed.status_code == 200


@pytest.mark.parametrize("role", ROLES)
async def test_the_direct_list_is_the_framework_list(
    client: AsyncClient, app: FastAPI, db: Database, role: str
) -> None:
    _require_postgres(db)
    ada = await make_user(app, db, "ada")
    project_id = await make_project(db, ada, "API")
    await _a_varied_backlog(client, ada)
    caller = await _caller(app, db, project_id, ada, role)

    framework, direct, statements = await _twice(
        client, app, ITEMS, caller.headers, db, direct=1 if role == "stranger" else 2
    )

    assert statements == 0  # the direct path answered: the project, then the page
    assert _comparable(direct) == _comparable(framework)
    if role == "stranger":
        assert direct.status_code == 404
    else:
        assert direct.status_code == 200
        assert len(direct.json()["data"]) == 6
        assert direct.json()["next_cursor"] is None


@pytest.mark.parametrize("sort", SORTS)
async def test_every_page_of_the_direct_list_is_the_framework_page(
    client: AsyncClient, app: FastAPI, db: Database, sort: str
) -> None:
    _require_postgres(db)
    ada = await make_user(app, db, "ada")
    await make_project(db, ada, "API")
    await _a_varied_backlog(client, ada)

    path: str | None = f"{ITEMS}?sort={sort}&limit=4"
    seen: list[str] = []
    while path is not None:
        framework, direct, statements = await _twice(client, app, path, ada.headers, db, direct=2)
        assert statements == 0
        assert _comparable(direct) == _comparable(framework)
        seen += [item["key"] for item in direct.json()["data"]]
        cursor = direct.json()["next_cursor"]
        path = None if cursor is None else f"{ITEMS}?sort={sort}&limit=4&cursor={cursor}"

    assert sorted(seen) == [f"API-{n}" for n in range(1, 7)]  # each once, none left out


async def test_the_framework_answers_the_lists_the_direct_path_declines(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    _require_postgres(db)
    ada = await make_user(app, db, "ada")
    await make_project(db, ada, "API")
    await _a_varied_backlog(client, ada)
    with QueryCounter(db) as counter:
        first_page = await client.get(f"{ITEMS}?limit=2", headers=ada.headers)
    assert len(counter.direct) == 2  # ada is cached: what follows could go direct
    cursor = first_page.json()["next_cursor"]
    assert cursor is not None

    cases = {
        "a filter": ("q=type:bug", 200),
        "an empty filter": ("q=", 200),
        "facets": ("facets=type", 200),
        "an unknown parameter": ("colour=red", 200),
        "a limit given twice": ("limit=2&limit=3", 200),
        "a limit of 0": ("limit=0", 422),
        "a limit of 101": ("limit=101", 422),
        "a limit that is no number": ("limit=two", 422),
        "a limit of 50 digits": ("limit=" + "1" * 50, 422),
        "an unknown sort": ("sort=colour", 422),
        "a cursor of another sort": (f"sort=key&cursor={cursor}", 400),
        "an altered cursor": (f"cursor={cursor[:-2]}xx", 400),
        "a cursor longer than 1024": ("cursor=" + "c" * 1025, 422),
    }
    statuses = {}
    for case, (query, _) in cases.items():
        with QueryCounter(db) as counter:
            answer = await client.get(f"{ITEMS}?{query}", headers=ada.headers)
        statuses[case] = answer.status_code
        assert counter.direct == [], case  # the framework answered

    assert statuses == {case: status for case, (_, status) in cases.items()}
    with QueryCounter(db) as counter:
        long_key = await client.get(f"/api/v1/projects/{'K' * 65}/items", headers=ada.headers)
    assert (long_key.status_code, counter.direct) == (422, [])


async def test_the_direct_list_answers_a_limit_as_the_framework_reads_it(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    _require_postgres(db)
    ada = await make_user(app, db, "ada")
    await make_project(db, ada, "API")
    await _a_varied_backlog(client, ada)

    for query in ("limit=0003", "cursor=", "sort=rank&limit=100"):
        framework, direct, statements = await _twice(
            client, app, f"{ITEMS}?{query}", ada.headers, db, direct=2
        )
        assert statements == 0, query
        assert _comparable(direct) == _comparable(framework), query
    assert len(direct.json()["data"]) == 6


async def test_an_empty_project_lists_nothing_on_the_direct_path(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    _require_postgres(db)
    ada = await make_user(app, db, "ada")
    await make_project(db, ada, "API")

    framework, direct, statements = await _twice(client, app, ITEMS, ada.headers, db, direct=2)

    assert statements == 0
    assert direct.status_code == 200
    assert direct.json() == {"data": [], "next_cursor": None, "facets": None}
    assert _comparable(direct) == _comparable(framework)


async def test_the_direct_pool_is_among_the_pool_gauges(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    ada = await make_user(app, db, "ada")
    await make_project(db, ada, "API")
    await client.get(PROJECT, headers=ada.headers)
    await client.get(PROJECT, headers=ada.headers)  # direct on PostgreSQL

    body = (await client.get("/metrics")).text

    gauges = {
        line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
        for line in body.splitlines()
        if line.startswith("takt_db_pool_") and 'pool="direct"' in line
    }
    if db.direct is None:
        assert gauges == {}
    else:
        assert gauges['takt_db_pool_size{pool="direct"}'] == 4.0
        assert gauges['takt_db_pool_checked_out{pool="direct"}'] == 0.0
        assert gauges['takt_db_pool_idle{pool="direct"}'] >= 1.0  # the read's connection
        assert gauges['takt_db_pool_overflow{pool="direct"}'] == 0.0


async def test_a_closed_reader_answers_503_and_opens_no_pool(
    settings: Settings, db: Database
) -> None:
    _require_postgres(db)
    statement = select(Project.key).where(Project.key == "API")
    opened = Database.from_settings(settings, url=db.url)
    never_opened = Database.from_settings(settings, url=db.url)
    assert opened.direct is not None
    assert never_opened.direct is not None
    await opened.direct.first(statement, {})  # opens its pool
    await opened.dispose()
    await never_opened.dispose()

    for reader in (opened.direct, never_opened.direct):
        with pytest.raises(ServiceUnavailable):
            await reader.first(statement, {})
        assert reader.figures() == (0, 0, 4)  # no pool left open


async def test_an_item_create_leaves_the_project_as_it_was_on_the_direct_path(
    client: AsyncClient, app: FastAPI, db: Database
) -> None:
    """A create writes the project row outside the ORM (its next number and bottom rank) and
    so without a new version: those are the items' bookkeeping, so the project's answer,
    `updated_at` included, stays on both paths and a cached copy of it stays right."""
    _require_postgres(db)
    ada = await make_user(app, db, "ada")
    await make_project(db, ada, "API")
    await new_item(client, ada)  # the project's bottom rank is known from here on
    _, before, _ = await _twice(client, app, PROJECT, ada.headers, db)

    await new_item(client, ada)  # a number and a rank from the project row's UPDATE
    framework, after, statements = await _twice(client, app, PROJECT, ada.headers, db)

    assert statements == 0
    assert _comparable(after) == _comparable(framework) == _comparable(before)
