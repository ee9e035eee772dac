"""Slack messages of deployments and incidents (`deployment.succeeded`, `deployment.failed`,
`incident.opened`, `incident.resolved`): what each says, that user text stays text, and that
webhooks (standard and Slack) can subscribe to these types."""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from takt.core.db import Database
from takt.core.events import Event, EventChanges, EventData, envelope
from takt.core.time import utcnow
from takt.deployments.events import DeploymentFailed, DeploymentStarted, DeploymentSucceeded
from takt.incidents.events import IncidentChanges, IncidentOpened, IncidentResolved
from takt.webhooks.slack import slack_event_types, slack_message
from tests.support import team

PUBLIC_URL = "https://takt.example.com/"
OWN_LINK = re.compile(
    r"<https://takt\.example\.com/(items|sprints|projects|deployments|incidents)/[^|<>]+\|[^<>]*>"
)
SHA = "9f1c2ab0d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9"
SLACK_URL = "https://8.8.8.8/services/T000/B000/XXXXXXXX"  # an address literal: nothing resolved
TYPES = ["deployment.succeeded", "deployment.failed", "incident.opened", "incident.resolved"]


def _envelope(
    data: EventData,
    changes: EventChanges | None = None,
    *,
    actor: str | None = "ada",
    project_key: str | None = "API",
) -> dict[str, Any]:
    """An envelope built as the server builds one (the catalogue's models, then
    `takt.core.events.envelope` over the stored row)."""
    event = Event(
        id="00000000-0000-4000-8000-000000000001",
        type=data.event_type,
        project_id="project",
        actor_id="user" if actor else None,
        occurred_at=utcnow(),
        data=data.model_dump(mode="json", by_alias=True),
        changes=None if changes is None else changes.model_dump(mode="json", exclude_unset=True),
        imported=False,
    )
    return envelope(event, actor, project_key)


def _deployment(**fields: Any) -> dict[str, Any]:
    defaults: dict[str, Any] = {
        "id": "d1",
        "environment_id": "e1",
        "environment": "production",
        "environment_type": "production",
        "state": "success",
        "ref": "main",
        "sha": SHA,
        "version": "v1.4.2",
        "triggered_by": "GitHub Actions",
        "item_keys": ["API-1", "API-2"],
    }
    return defaults | fields


def _succeeded(**fields: Any) -> DeploymentSucceeded:
    return DeploymentSucceeded(**({"commit_count": 3} | _deployment(**fields)))


def _failed(reason: str = "rolled_back", **fields: Any) -> DeploymentFailed:
    return DeploymentFailed(reason=reason, **_deployment(state="rolled_back", **fields))


def _incident(**fields: Any) -> dict[str, Any]:
    defaults: dict[str, Any] = {
        "id": "i1",
        "number": 3,
        "title": "Checkout returns 500",
        "severity": "sev1",
        "state": "open",
        "environment_id": "e1",
        "environment": "production",
        "caused_by_deployment_id": "d1",
        "fixed_by_deployment_id": None,
    }
    return defaults | fields


def _resolved(**fields: Any) -> IncidentResolved:
    resolved = {"state": "resolved", "fixed_by_deployment_id": "d2"}
    return IncidentResolved(
        **_incident(**({"resolved_at": "2026-11-20T12:30:00+00:00"} | resolved | fields))
    )


def _message(sent: dict[str, Any]) -> dict[str, Any]:
    message = slack_message(sent, public_url=PUBLIC_URL)
    assert message is not None
    return message


def _texts(message: dict[str, Any]) -> list[str]:
    found = [message["text"]]
    for block in message["blocks"]:
        if "text" in block:
            found.append(block["text"]["text"])
        found += [field["text"] for field in block.get("fields", [])]
        found += [element["text"] for element in block.get("elements", [])]
    return found


def test_the_four_types_make_slack_messages() -> None:
    assert set(TYPES) <= slack_event_types()
    started = _envelope(DeploymentStarted(**_deployment(state="in_progress")))
    assert slack_message(started, public_url=PUBLIC_URL) is None


def test_a_successful_deployment_says_what_it_shipped_and_links_its_items() -> None:
    message = _message(_envelope(_succeeded()))

    assert message == {
        "text": "v1.4.2 deployed to production in API: 3 commits · 2 items.",
        "blocks": [
            {
                "type": "header",
                "text": {
                    "type": "plain_text",
                    "text": ":package: Deployment succeeded",
                    "emoji": True,
                },
            },
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": "*<https://takt.example.com/deployments/d1|v1.4.2>* deployed to "
                    "*production* in *API*.",
                    "verbatim": True,
                },
                "fields": [
                    {
                        "type": "mrkdwn",
                        "text": "*Environment*\nproduction (production)",
                        "verbatim": True,
                    },
                    {"type": "mrkdwn", "text": "*Commit*\n9f1c2ab on main", "verbatim": True},
                    {"type": "mrkdwn", "text": "*Triggered by*\nGitHub Actions", "verbatim": True},
                    {"type": "mrkdwn", "text": "*Shipped*\n3 commits · 2 items", "verbatim": True},
                ],
            },
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": "*Items*\n<https://takt.example.com/items/API-1|API-1>, "
                    "<https://takt.example.com/items/API-2|API-2>",
                    "verbatim": True,
                },
            },
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": "Reported by *ada*", "verbatim": True}],
            },
        ],
    }


def test_a_deployment_without_version_is_named_by_its_commit_then_its_ref() -> None:
    by_sha = _message(_envelope(_succeeded(version=None, item_keys=[], commit_count=1)))
    assert by_sha["text"] == "9f1c2ab deployed to production in API: 1 commit · 0 items."
    assert len(by_sha["blocks"]) == 3  # no list of items
    by_ref = _message(_envelope(_succeeded(version=None, sha=None), actor=None))
    assert by_ref["text"].startswith("main deployed to production")
    assert by_ref["blocks"][-1]["type"] == "section"  # nobody to name, no marks: no context
    nameless = _message(_envelope(_succeeded(version=None, sha=None, ref=None)))
    assert nameless["text"].startswith("Deployment deployed")


def test_a_hotfix_and_a_rollback_are_marked() -> None:
    message = _message(_envelope(_succeeded(is_hotfix=True, is_rollback=True), actor=None))
    context = [element["text"] for element in message["blocks"][-1]["elements"]]
    assert context == [":adhesive_bandage: Hotfix", ":leftwards_arrow_with_hook: Rollback"]


def test_a_deployment_of_many_items_links_the_first_ten() -> None:
    keys = [f"API-{n}" for n in range(1, 26)]
    message = _message(_envelope(_succeeded(item_keys=keys)))
    items = message["blocks"][2]["text"]["text"]
    assert items.count("<https://takt.example.com/items/") == 10
    assert items.endswith(" and 15 more")


def test_a_failed_deployment_says_why() -> None:
    reasons = {
        "failure": "it finished in failure",
        "rolled_back": "it was rolled back",
        "incident": "an incident was linked to it",
        "hotfix": "a hotfix was deployed to fix it",
    }
    for reason, why in reasons.items():
        message = _message(_envelope(_failed(reason)))
        assert message["text"] == f"Deployment v1.4.2 to production in API failed: {why}."
        assert message["blocks"][0]["text"]["text"] == ":x: Deployment failed"
        assert message["blocks"][1]["text"]["text"] == (
            "*<https://takt.example.com/deployments/d1|v1.4.2>* to *production* in *API* "
            f"failed: {why}."
        )
        fields = [field["text"] for field in message["blocks"][1]["fields"]]
        assert fields[-1] == (
            "*Items*\n<https://takt.example.com/items/API-1|API-1>, "
            "<https://takt.example.com/items/API-2|API-2>"
        )
    # A reason a later version adds is shown as it is, escaped.
    message = _message(_envelope(_failed("<!channel>")))
    assert message["text"].endswith("failed: &lt;!channel&gt;.")


def test_an_opened_incident_names_severity_environment_and_cause() -> None:
    message = _message(_envelope(IncidentOpened(**_incident())))

    assert message == {
        "text": "Incident INC-3 opened in API: Checkout returns 500 (sev1, production).",
        "blocks": [
            {
                "type": "header",
                "text": {"type": "plain_text", "text": ":fire: Incident opened", "emoji": True},
            },
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": "*<https://takt.example.com/incidents/i1|INC-3>* Checkout returns "
                    "500 in *API*.",
                    "verbatim": True,
                },
                "fields": [
                    {"type": "mrkdwn", "text": "*Severity*\nSEV1", "verbatim": True},
                    {"type": "mrkdwn", "text": "*Environment*\nproduction", "verbatim": True},
                    {
                        "type": "mrkdwn",
                        "text": "*Caused by*\n<https://takt.example.com/deployments/d1|deployment>",
                        "verbatim": True,
                    },
                ],
            },
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": "Opened by *ada*", "verbatim": True}],
            },
        ],
    }


def test_an_incident_with_no_known_cause_names_none() -> None:
    message = _message(_envelope(IncidentOpened(**_incident(caused_by_deployment_id=None))))
    fields = [field["text"] for field in message["blocks"][1]["fields"]]
    assert fields == ["*Severity*\nSEV1", "*Environment*\nproduction"]


def test_a_resolved_incident_names_the_fix_and_when() -> None:
    message = _message(
        _envelope(_resolved(), IncidentChanges(state=("open", "resolved")), actor="bob")
    )

    assert message["text"] == "Incident INC-3 resolved in API: Checkout returns 500."
    assert message["blocks"][0]["text"]["text"] == ":white_check_mark: Incident resolved"
    assert message["blocks"][1]["text"]["text"] == (
        "*<https://takt.example.com/incidents/i1|INC-3>* Checkout returns 500 in *API* is resolved."
    )
    fields = [field["text"] for field in message["blocks"][1]["fields"]]
    assert fields == [
        "*Severity*\nSEV1",
        "*Environment*\nproduction",
        "*Caused by*\n<https://takt.example.com/deployments/d1|deployment>",
        "*Fixed by*\n<https://takt.example.com/deployments/d2|deployment>",
    ]
    context = [element["text"] for element in message["blocks"][2]["elements"]]
    assert context == ["Resolved by *bob*", "Resolved at 2026-11-20 12:30 UTC"]


def test_a_resolved_incident_shows_how_long_it_was_open() -> None:
    for opened, shown in (
        ("2026-11-20T11:45:00Z", "45 min"),
        ("2026-11-20T09:00:00Z", "3 h 30 min"),
        ("2026-11-20T10:30:00+01:00", "3 h"),
        ("2026-11-18T08:30:00Z", "2 d 4 h"),
        ("2026-11-17T12:30:00Z", "3 d"),
    ):
        sent = _envelope(_resolved())
        sent["data"]["opened_at"] = opened
        fields = [field["text"] for field in _message(sent)["blocks"][1]["fields"]]
        assert fields[-1] == f"*Open for*\n{shown}", opened
    # An unreadable or later time is left out.
    unreadable: tuple[str | None, ...] = (
        "yesterday",
        "2026-11-20T13:00:00Z",
        "2026-11-20T10:00:00",
        None,
    )
    for unread in unreadable:
        sent = _envelope(_resolved())
        sent["data"]["opened_at"] = unread
        fields = [field["text"] for field in _message(sent)["blocks"][1]["fields"]]
        assert not fields[-1].startswith("*Open for*"), unread


def test_envelopes_that_do_not_fit_send_nothing() -> None:
    for data in (_succeeded(), _failed(), IncidentOpened(**_incident()), _resolved()):
        sent = _envelope(data)
        sent["data"] = {"id": "x"}
        assert slack_message(sent, public_url=PUBLIC_URL) is None, sent["type"]
    odd_time = _envelope(_resolved(resolved_at="soon"))
    context = [element["text"] for element in _message(odd_time)["blocks"][2]["elements"]]
    assert context == ["Resolved by *ada*"]


def _user_text(min_size: int, max_size: int) -> st.SearchStrategy[str]:
    # Any text a database can hold: both refuse a lone surrogate (not UTF-8), so no stored name
    # or key, and no event about one, can carry it.
    alphabet = st.characters(codec="utf-8") | st.sampled_from("<>&|!@#")
    return st.text(alphabet, min_size=min_size, max_size=max_size)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=_user_text(1, 400), name=_user_text(1, 80), username=_user_text(1, 60))
def test_any_user_text_stays_text_and_within_slack_limits(
    text: str, name: str, username: str
) -> None:
    user_fields = {
        "environment": name,
        "environment_type": name,
        "ref": text,
        "sha": name,
        "version": text,
        "triggered_by": text,
        "item_keys": [name] * 30,
    }
    envelopes = [
        _envelope(_succeeded(**user_fields), actor=username, project_key=name),
        _envelope(_failed(name, **user_fields), actor=username, project_key=name),
        _envelope(
            IncidentOpened(**_incident(title=text, severity=name, environment=name)),
            actor=username,
        ),
        _envelope(_resolved(title=text, severity=name, environment=name), actor=username),
    ]
    for sent in envelopes:
        message = _message(sent)
        assert len(message["text"]) <= 3000
        for block in message["blocks"]:
            if block["type"] == "header":
                assert len(block["text"]["text"]) <= 150
            assert len(block.get("text", {}).get("text", "")) <= 3000
            assert len(block.get("fields", [])) <= 10
            assert all(len(field["text"]) <= 2000 for field in block.get("fields", []))
        for shown in _texts(message):
            rest = OWN_LINK.sub("", shown)
            assert "<" not in rest, shown
            assert ">" not in rest, shown
            assert re.fullmatch(r"([^&]|&(amp|lt|gt);)*", rest, flags=re.DOTALL), shown
        json.dumps(message)


# Through the API: the events the log carries -------------------------------------------------


async def _post(client: AsyncClient, headers: dict[str, str], url: str, body: Any) -> Any:
    response = await client.post(f"/api/v1{url}", json=body, headers=headers)
    assert response.status_code in (200, 201), response.text
    return response.json()


async def test_deployments_and_incidents_reported_through_the_api_make_messages(
    app: FastAPI, db: Database, client: AsyncClient
) -> None:
    ada = (await team(app, db))["ada"]
    report = {"environment": "production", "ref": "main", "sha": SHA, "pipeline_id": "77"}
    shipped = await _post(
        client, ada.headers, "/projects/API/deployments", {**report, "state": "success"}
    )
    broken = await _post(
        client,
        ada.headers,
        "/projects/API/deployments",
        {**report, "pipeline_id": "78", "state": "failure", "version": "v2"},
    )
    incident = await _post(
        client,
        ada.headers,
        "/projects/API/incidents",
        {
            "title": "Checkout <b>down</b>",
            "severity": "sev1",
            "caused_by_deployment_id": shipped["id"],
        },
    )
    resolved = await client.patch(
        f"/api/v1/incidents/{incident['id']}", json={"state": "resolved"}, headers=ada.headers
    )
    assert resolved.status_code == 200, resolved.text
    log = await client.get("/api/v1/projects/API/events?limit=100", headers=ada.headers)
    messages = {
        (sent["type"], sent["data"].get("reason")): slack_message(sent, public_url=PUBLIC_URL)
        for sent in log.json()["data"]
        if sent["type"] in TYPES
    }

    assert set(messages) == {
        ("deployment.succeeded", None),
        ("deployment.failed", "failure"),
        ("deployment.failed", "incident"),
        ("incident.opened", None),
        ("incident.resolved", None),
    }
    assert all(message is not None for message in messages.values())
    texts = {key: message["text"] for key, message in messages.items() if message}
    assert texts[("deployment.succeeded", None)] == (
        "9f1c2ab deployed to production in API: 1 commit · 0 items."
    )
    assert texts[("deployment.failed", "failure")] == (
        "Deployment v2 to production in API failed: it finished in failure."
    )
    assert texts[("deployment.failed", "incident")] == (
        "Deployment 9f1c2ab to production in API failed: an incident was linked to it."
    )
    number = incident["number"]
    assert texts[("incident.opened", None)] == (
        f"Incident INC-{number} opened in API: Checkout &lt;b&gt;down&lt;/b&gt; (sev1, production)."
    )
    assert texts[("incident.resolved", None)] == (
        f"Incident INC-{number} resolved in API: Checkout &lt;b&gt;down&lt;/b&gt;."
    )
    assert broken["state"] == "failure"


# Subscribing ---------------------------------------------------------------------------------


async def test_webhooks_of_both_kinds_subscribe_to_deployments_and_incidents(
    app: FastAPI, db: Database, client: AsyncClient
) -> None:
    ada = (await team(app, db))["ada"]
    for kind, url, types in (
        ("slack", SLACK_URL, TYPES),
        ("standard", "https://8.8.8.8/hooks/takt", ["deployment.*", "incident.*"]),
    ):
        made = await client.post(
            "/api/v1/projects/API/webhooks",
            json={"url": url, "kind": kind, "event_types": types},
            headers=ada.headers,
        )
        assert made.status_code == 201, made.text
        assert made.json()["event_types"] == types
    wrong = await client.post(
        "/api/v1/projects/API/webhooks",
        json={"url": SLACK_URL, "kind": "slack", "event_types": ["deployment.exploded"]},
        headers=ada.headers,
    )
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["pointer"] == "/event_types/0"
