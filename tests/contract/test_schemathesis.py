"""Contract test: schemathesis drives every documented operation against a live server with
seeded data and a project admin's token. No 5xx, every response matches its schema, and every
error is problem+json.

To cover a new module: nothing to do for its routes; seed what they need in `seeded` and map
its path parameters in `PATH_VALUES`.
"""

from __future__ import annotations

import json
import re
import unittest
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from functools import cache
from typing import Any

import jsonschema_rs
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup, as_reported_failure
from schemathesis.core.parameters import ParameterLocation
from schemathesis.core.result import Ok
from schemathesis.generation.feedback import FeedbackSources
from schemathesis.generation.hypothesis.reporting import ignore_hypothesis_output
from schemathesis.pytest._test_builder import build_operation_test
from schemathesis.python._constants.orchestrator import make_constants_value_source
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from takt.config import Settings
from takt.core.db import Database
from takt.main import create_app
from tests.conftest import empty_all_tables
from tests.delivery.kit import seed_delivery
from tests.deployments.kit import seed_deployments
from tests.estimation.kit import seed_estimation
from tests.incidents.kit import seed_incidents
from tests.live import live_server
from tests.readiness.kit import seed_readiness
from tests.retros.kit import seed_retros
from tests.support import (
    add_member,
    app_for_module_data,
    make_pat,
    make_project,
    make_user,
    seed_work,
)

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
    "delete_risk",
    "delete_webhook",
    "delete_repository",
    "delete_environment",
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
    app = app_for_module_data(settings, database)
    admin = await make_user(app, database, "padmin")
    viewer = await make_user(app, database, "viewer")
    member = await make_user(app, database, "member")
    project_id = await make_project(database, admin, PROJECT_KEY)
    await add_member(database, project_id, viewer, "viewer")
    await add_member(database, project_id, member, "member")
    token_id, _ = await make_pat(app, database, admin, ["read"])
    work = await seed_work(app, database, admin, member, PROJECT_KEY)
    poker = await seed_estimation(app, database, admin, member, PROJECT_KEY, work["item_key"])
    retros = await seed_retros(app, admin, member, PROJECT_KEY)
    delivery = await seed_delivery(app, database, admin, member, PROJECT_KEY, work["item_key"])
    incidents = await seed_incidents(app, database, admin, PROJECT_KEY)
    readiness = await seed_readiness(database, PROJECT_KEY)
    deployments = await seed_deployments(app, database, admin, PROJECT_KEY, work["item_key"])
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
            "blocker_id": work["blocker_id"],
            "risk_id": work["risk_id"],
            "webhook_id": work["webhook_id"],
            "delivery_id": work["delivery_id"],
            "date": work["date"],
            "session_id": poker["session_id"],
            # Retros: one of each phase exists; random operations reach the one in `group`,
            # whose card and group these are (other phases answer 409, as documented).
            "retro_id": retros["group_retro_id"],
            "card_id": retros["group_card_id"],
            "group_id": retros["group_id"],
            "vote_id": retros["vote_id"],
            "repository_id": delivery["repository_id"],
            "inbound_delivery_id": delivery["inbound_delivery_id"],
            "incident_id": incidents["incident_id"],
            "pull_request_id": readiness["pull_request_id"],
            "environment_id": deployments["environment_id"],
            "deployment_id": deployments["deployment_id"],
        },
    }
    await empty_all_tables(database)
    await database.dispose()


# Addresses in special-use domains (`.test`, `.local`, ...) have the form of an email but the
# server refuses them (as email-validator does): generate addresses in delegated domains.
SPECIAL_USE_DOMAINS = {"arpa", "invalid", "local", "localhost", "onion", "test"}
schemathesis.openapi.format(
    "email",
    st.emails().filter(lambda e: e.rsplit(".", 1)[-1].lower() not in SPECIAL_USE_DOMAINS),
)

# Loaded from the app itself at import time (the server under test serves the same document);
# schemathesis's lazy fixture loader does not work with this pytest version.
schema = schemathesis.openapi.from_dict(
    create_app(Settings(secret_key="x" * 48, _env_file=None)).openapi()
)


def problem_json_for_errors(ctx: Any, response: Any, case: Any) -> bool | None:
    if response.status_code >= 400:
        content_type = response.headers.get("content-type", [""])
        value = content_type[0] if isinstance(content_type, list) else content_type
        assert value.startswith("application/problem+json"), (
            f"{response.status_code} came as {value}"
        )
    return None


# Values a schema can type but not mint: the server issues cursors and ETags, a client makes a
# fresh Idempotency-Key for each request (one reused for another request is a 422, by design),
# and the filter language is a grammar, not a pattern. Values outside their schema stay: they
# are negative cases, to be refused.
SERVER_ISSUED = {("query", "cursor"), ("query", "after"), ("header", "if-match")}
VALID_FILTER = 'type:bug priority:>=high "login"'
# Operations whose `q` is the items' filter language.
FILTERED = {"list_items", "flow_metrics"}


def _fits(value: object, schema: dict[str, Any]) -> bool:
    return isinstance(value, str) and jsonschema_rs.validator_for(schema).is_valid(value)


def with_realistic_tokens(case: Any) -> None:
    """Put in what a real client would send in these places."""
    containers = {"query": case.query or {}, "header": case.headers or {}}
    for param in case.operation.definition.raw.get("parameters", []):
        where, name = param["in"], param["name"]
        container = containers.get(where, {})
        relevant = (where, name) in SERVER_ISSUED or name in ("Idempotency-Key", "q")
        if not relevant or name not in container or not _fits(container[name], param["schema"]):
            continue
        if (where, name) in SERVER_ISSUED:
            del container[name]
        elif name == "Idempotency-Key":
            container[name] = uuid.uuid4().hex
        elif name == "q" and case.operation.definition.raw["operationId"] in FILTERED:
            container[name] = VALID_FILTER


# What a schema can't state, so schema-valid data may still be refused with 422 for it: a
# reference to something that doesn't exist (a user, an item, an event type), and rules across
# fields (exactly one of two fields, an end before a start).
BEYOND_THE_SCHEMA = re.compile(
    "|".join(
        [
            # references
            r"is not a member of this project",
            r"[Nn]o item [A-Z][A-Z0-9]*-[0-9]+",
            # (the name as Python's repr() writes it: in double quotes when it holds a ')
            r"no status ('.*'|\".*\") in this project",
            r"no label ('.*'|\".*\") in this project",
            r"not a sprint of this project",
            r"unknown item",
            # delivery: a GitHub repository's name has two parts; the period of the metrics
            r"a GitHub repository's full name is",
            r"after to",
            r"period too long",
            r"is no date",
            # DORA: an environment of the project; dates of the API's calendar; a real moment
            r"has no environment named",
            r"is outside 1970-01-01 to 9000-12-31",
            r"is no RFC 3339 date-time",
            r"is not an event type",
            # retros: a prompt, group or card of the retro; custom prompts; the vote budget
            r"not a prompt of this retro",
            r"no such (group|card) in this retro",
            r"a custom retro needs 1 to 8 prompts",
            r"prompts are given only with template",
            r"must be at most vote_budget",
            r"listed twice",
            # planning poker: a card of the session's deck, custom decks' cards, voters
            r"not a card of this session's deck",
            r"a custom scale needs `cards`",
            r"only with `scale: custom`",
            r"is listed twice",
            r"is the unsure card",
            r"viewers can't vote",
            r"needs at least one participant",
            r"is not an entry of the project's Definition of Ready",
            # a webhook URL's host: whether it resolves, and to what, is the network's answer
            r"Takt won't call this URL",
            r"unknown time zone",
            # rules across fields, or across an imported document
            r"before start_date",
            r"workday_end must be after workday_start",
            r"give exactly one of",
            r"reference used twice",
            r"entry id '.*' is used twice",
            # State the schema can't see: the project's estimate scale, a member's role, the
            # room left after the project's last sprint.
            r"not on the project's \w+ scale",
            r"viewers can't be assigned",
            r"give start_date",
            r"next sprint would end after",
            r"A sprint lasts at most",
            # A forecast needs history the seeded project doesn't have (METRICS.md: 422).
            r"working days of history",
            r"No item was finished",
            r"has no items yet",
            # Stand-ups: distinct question ids, answers that fit the project's questions, and a
            # date that is a stand-up day up to today by the project's (generated) config and
            # time zone.
            r"stand-up config",
            r"is not a stand-up day",
            r"is in the future: it is",
            # Incidents: the project's environments and deployments, and times in order.
            r"no environment '.*' in this project",
            r"give the environment, or caused_by_deployment_id",
            r"not a deployment of this project",
            r"deployed to another environment than the incident's",
            r"the same deployment can't cause and fix",
            r"resolved_at is before opened_at",
            r"an open incident has no resolved_at",
            # Readiness: item keys of the project, at most 200 at once, exactly one of ref and
            # items; a policy's environments (each other than the one it precedes).
            r"at most 200 items at once",
            r"the commit links more than",
            r"an environment can't come before itself",
            # Deployments: the project's environments, deployments and repositories; rules
            # across fields.
            r"not a repository of this project",
            r"sequence needs pipeline_id",
            r"finished_at is before started_at",
            r"a hotfix or a rollback, not both",
            r"a new deployment can't be rolled back",
        ]
    )
)


# A live stream never ends, so it is called here without the `Accept: text/event-stream` it needs
# and answers its documented 406 (tests/events/test_stream*.py cover the streams themselves).
STREAM_ONLY = {"stream_events"}


def positive_data_accepted(ctx: Any, response: Any, case: Any) -> bool | None:
    """`positive_data_acceptance`, except for a 422 that names a rule above, or the 406 of a
    stream called without its media type."""
    if response.status_code == 406 and case.operation.definition.raw["operationId"] in STREAM_ONLY:
        return None
    if response.status_code == 422:
        body = json.loads(response.content)
        messages = [body["detail"]] + [e["message"] for e in body.get("errors", [])]
        if any(BEYOND_THE_SCHEMA.search(m) for m in messages):
            return None
        # An export document hangs together by references (keys, refs, usernames) that random
        # data never gets right; the importer checks them and the round-trip tests cover it.
        # Its free-form history data can't say in the schema that its strings refuse NUL.
        pointers = [e["pointer"] for e in body.get("errors", [])]
        importing = case.operation.definition.raw.get("operationId") == "import_project"
        if importing and pointers and all(p.startswith("/document/") for p in pointers):
            return None
        if importing and "must not contain NUL" in body["detail"]:
            return None
    result: bool | None = positive_data_acceptance(ctx, response, case)
    return result


# Performance: schemathesis's own `@schema.parametrize()` builds every operation's cases (its
# coverage phase: boundary and negative values, 11,000 of them) while pytest *collects*, in
# every xdist worker, each of which runs only half of them: 2 min 38 s and 1.2 GB per worker on
# this machine (2026-11-29), before any test ran, and in every run that merely collected this
# module. Here collection lists the operations, and each test builds its own operation's cases
# when it runs, with the same builder, settings and checks the plugin uses.
CONTRACT_SETTINGS = settings(
    max_examples=10,
    deadline=None,
    derandomize=True,  # the same cases every run: a failure here is never a coin toss
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
READ = list(schema.get_all_operations())
OPERATIONS = {
    result.ok().label: result.ok().definition.raw["operationId"]
    for result in READ
    if isinstance(result, Ok)
}


def test_schemathesis_reads_every_operation() -> None:
    """An operation schemathesis can't read would have no contract test below: it fails here."""
    assert [result for result in READ if not isinstance(result, Ok)] == []
    assert len(OPERATIONS) == len(READ) > 100


@pytest.mark.parametrize("operation_id", list(OPERATIONS.values()), ids=list(OPERATIONS))
def test_api_contract(operation_id: str, seeded: dict[str, Any], server: str) -> None:
    def check(case: Any) -> None:
        path_negated = case.meta is not None and case.meta.is_negative_at(ParameterLocation.PATH)
        if case.path_parameters and operation_id not in KEEP_RANDOM_PATHS and not path_negated:
            for name, value in seeded["paths"].items():
                if name in case.path_parameters:
                    case.path_parameters[name] = value
        with_realistic_tokens(case)
        # In the case itself, not as a call argument: schemathesis then knows a generated (maybe
        # invalid) Authorization header was replaced and doesn't expect it to be refused.
        case.headers = {**(case.headers or {}), **seeded["headers"]}
        case.call_and_validate(
            base_url=server,
            checks=[
                not_a_server_error,
                status_code_conformance,
                content_type_conformance,
                response_schema_conformance,
                response_headers_conformance,
                positive_data_accepted,
                negative_data_rejection,
                problem_json_for_errors,
            ],
        )

    run_cases(schema.find_operation_by_id(operation_id), check)


@cache
def constants_of_the_schema() -> Any:
    """The schema's constants that schemathesis's fuzzing draws from (the plugin finds them once
    per collection)."""
    return make_constants_value_source(schema)


def run_cases(operation: Any, check: Callable[[Any], None]) -> None:
    """Every case schemathesis makes for `operation` (its examples, coverage and fuzzing
    phases), each passed to `check`; as its pytest plugin runs them, a case it could not make is
    a failure, not a skip."""
    test = build_operation_test(
        config=schema.config,
        operation=operation,
        test_func=check,
        given_kwargs={},
        feedback=FeedbackSources(constants_value_source=constants_of_the_schema()),
        explicit_settings=CONTRACT_SETTINGS,
    )
    try:
        with ignore_hypothesis_output():
            test()
    except FailureGroup as exc:
        raise as_reported_failure(exc) from None
    except (pytest.skip.Exception, unittest.SkipTest) as exc:
        pytest.fail(f"schemathesis made no cases for {operation.label}: {exc}")
