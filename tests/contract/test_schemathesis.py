"""Contract test: schemathesis drives every documented operation against a live server with
seeded data and a project admin's token. No 5xx, every response matches its schema, and every
error is problem+json.

To cover a new module: nothing to do for its routes; seed what they need in `seeded` and map
its path parameters in `PATH_VALUES`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from takt.config import Settings
from takt.core.db import Database
from takt.main import create_app
from tests.conftest import empty_all_tables
from tests.live import live_server
from tests.support import add_member, make_pat, make_project, make_user, seed_work

PROJECT_KEY = "SCH"
# Operations whose success would destroy the seed for the operations after them.
KEEP_RANDOM_PATHS = {
    "delete_project",
    "remove_member",
    "delete_item",
    "delete_status",
    "delete_label",
    "delete_comment",
    "delete_sprint",
    "cancel_sprint",
    "complete_sprint",
}


@pytest.fixture(scope="module")
def server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with live_server(
        database_url,
        tmp_path_factory.mktemp("schemathesis"),
        TAKT_RATE_LIMIT_PER_MINUTE="1000000",
        TAKT_LOGIN_MAX_FAILURES="1000000",
    ) as base:
        yield base


@pytest.fixture(scope="module")
async def seeded(settings: Settings, server: str) -> AsyncIterator[dict[str, Any]]:
    database = Database.from_settings(settings)
    app = create_app(settings, database=database)
    admin = await make_user(app, database, "padmin")
    viewer = await make_user(app, database, "viewer")
    project_id = await make_project(database, admin, PROJECT_KEY)
    await add_member(database, project_id, viewer, "viewer")
    token_id, _ = await make_pat(app, database, admin, ["read"])
    work = await seed_work(app, database, admin, viewer, PROJECT_KEY)
    yield {
        "headers": admin.headers,
        "paths": {
            "project_key": PROJECT_KEY,
            "user_id": viewer.id,
            "token_id": token_id,
            "item_key": work["item_key"],
            "comment_id": work["comment_id"],
            "status_id": work["status_id"],
            "label_id": work["label_id"],
            "sprint_id": work["sprint_id"],
        },
    }
    await empty_all_tables(database)
    await database.dispose()


# Loaded from the app itself at import time (the server under test serves the same document);
# schemathesis's lazy fixture loader does not work with this pytest version.
schema = schemathesis.openapi.from_dict(
    create_app(Settings(secret_key="x" * 48, _env_file=None)).openapi()  # type: ignore[call-arg]
)


def problem_json_for_errors(ctx: Any, response: Any, case: Any) -> bool | None:
    if response.status_code >= 400:
        content_type = response.headers.get("content-type", [""])
        value = content_type[0] if isinstance(content_type, list) else content_type
        assert value.startswith("application/problem+json"), (
            f"{response.status_code} came as {value}"
        )
    return None


@schema.parametrize()
@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_api_contract(case: Any, seeded: dict[str, Any], server: str) -> None:
    if case.path_parameters and case.operation.definition.raw.get("operationId") not in (
        KEEP_RANDOM_PATHS
    ):
        for name, value in seeded["paths"].items():
            if name in case.path_parameters:
                case.path_parameters[name] = value
    case.call_and_validate(
        base_url=server,
        headers=seeded["headers"],
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
            problem_json_for_errors,
        ],
    )
