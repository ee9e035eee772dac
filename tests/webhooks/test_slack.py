"""Slack messages for webhooks of kind `slack`: the events a sprint and its assignments write
through the API, read back from the event log, give the recorded, hand-written payloads of
slack_expected/; user text can't become a link or a mention, and long text is cut."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from takt.core.db import Database
from takt.core.events import Event, EventChanges, EventData, envelope
from takt.core.time import utcnow
from takt.items.events import ItemChanges, ItemCreated, ItemDeleted, ItemUpdated
from takt.sprints.events import SprintCompleted, SprintCreated, SprintStarted
from takt.webhooks.slack import _cut_mrkdwn, slack_event_types, slack_message
from tests.support import Account, Probe, new_item, team

PUBLIC_URL = "https://takt.example.com/"  # the trailing slash must not double in links
EXPECTED = Path(__file__).parent / "slack_expected"
# Our own links, the only `<…>` a message may hold.
OWN_LINK = re.compile(r"<https://takt\.example\.com/(items|sprints)/[^|<>]+\|[^<>]*>")


async def _call(
    client: AsyncClient, who: Account, method: str, url: str, body: dict[str, Any] | None = None
) -> dict[str, Any]:
    response = await client.request(method, f"/api/v1{url}", json=body, headers=who.headers)
    assert response.status_code in (200, 201), response.text
    answer: dict[str, Any] = response.json()
    return answer


async def _event_log(client: AsyncClient, who: Account, key: str = "API") -> list[dict[str, Any]]:
    """The project's events as a client reads them: the same envelopes webhooks carry."""
    events: list[dict[str, Any]] = []
    params = {"limit": "100"}
    while True:
        page = await client.get(
            f"/api/v1/projects/{key}/events", params=params, headers=who.headers
        )
        assert page.status_code == 200, page.text
        body = page.json()
        if not body["data"]:
            return events
        events += body["data"]
        params["after"] = body["next_cursor"]


def _expected(name: str) -> Any:
    return json.loads((EXPECTED / f"{name}.json").read_text())


def _placeholders(message: dict[str, Any], values: dict[str, str]) -> Any:
    """The message with the values a test can't know ahead replaced by `{name}` placeholders."""
    text = json.dumps(message, ensure_ascii=False)
    for name, value in values.items():
        text = text.replace(value, "{" + name + "}")
    return json.loads(text)


def _texts(message: dict[str, Any]) -> list[str]:
    """Every text of a message that Slack renders."""
    found = [message["text"]]
    for block in message["blocks"]:
        if "text" in block:
            found.append(block["text"]["text"])
        found += [field["text"] for field in block.get("fields", [])]
        found += [element["text"] for element in block.get("elements", [])]
    return found


def _within_slack_limits(message: dict[str, Any]) -> None:
    for block in message["blocks"]:
        text = block.get("text", {})
        if block["type"] == "header":
            assert text["type"] == "plain_text"
            assert len(text["text"]) <= 150
        else:
            assert len(text.get("text", "")) <= 3000
            assert text.get("type", "mrkdwn") == "mrkdwn"
        assert len(block.get("fields", [])) <= 10
        assert all(len(field["text"]) <= 2000 for field in block.get("fields", []))
        assert len(block.get("elements", [])) <= 10
    assert len(message["text"]) <= 3000


def _assert_no_injection(message: dict[str, Any]) -> None:
    """Outside our own links no `<`, `>` or bare `&` reaches Slack: nothing a user typed can open
    a link or a mention."""
    for text in _texts(message):
        rest = OWN_LINK.sub("", text)
        assert "<" not in rest, text
        assert ">" not in rest, text
        assert re.fullmatch(r"([^&]|&(amp|lt|gt);)*", rest, flags=re.DOTALL), text


def _envelope(
    data: EventData,
    changes: EventChanges | None = None,
    *,
    actor: str | None = "ada",
    project_key: str | None = "API",
    imported: bool = False,
) -> dict[str, Any]:
    """An envelope built the way the server builds one: the catalogue's models, then
    `takt.core.events.envelope` over the stored row."""
    event = Event(
        id="00000000-0000-4000-8000-000000000001",
        type=data.event_type,
        project_id="project",
        actor_id="user" if actor else None,
        occurred_at=utcnow(),
        data=data.model_dump(mode="json", by_alias=True),
        changes=None if changes is None else changes.model_dump(mode="json", exclude_unset=True),
        imported=imported,
    )
    return envelope(event, actor, project_key)


def _created(title: str, assignee: str | None = "bob", key: str = "API-1") -> ItemCreated:
    return ItemCreated(
        key=key,
        title=title,
        type="task",
        status="To Do",
        category="todo",
        priority="medium",
        estimate=None,
        assignee=assignee,
        parent_key=None,
        sprint_id=None,
        labels=[],
    )


REPORT: dict[str, Any] = {
    "committed": {"items": 4, "points": 10.0},
    "completed": {"items": 3, "points": 7.5},
    "added": {"items": 1, "points": 2.0},
    "removed": {"items": 0, "points": 0.0},
    "carried_over": {"items": 1, "points": 1.0},
    "say_do_ratio": 0.125,
    "scope_change": 0.2,
    "carry_over_rate": 0.1,
    "unestimated": 2,
    "person_days": 20.0,
    "carried_over_to": "next-sprint-id",
}


# Recorded payloads, from events made through the API --------------------------------------


async def test_a_sprint_and_its_assignments_give_the_recorded_messages(
    app: FastAPI, db: Database, client: AsyncClient
) -> None:
    people = await team(app, db)
    ada = people["ada"]
    await new_item(client, ada, title="Rate-limit the login endpoint", assignee="bob", estimate=3)
    await new_item(client, ada, title="Export sprint report as CSV", estimate=1)
    await new_item(client, ada, title="Document the webhook retries", estimate=2)
    sprint = await _call(
        client, ada, "POST", "/projects/API/sprints", {"name": "Sprint 1", "goal": "Integrations"}
    )
    sprint_url = f"/sprints/{sprint['id']}"
    await _call(client, ada, "POST", f"{sprint_url}/items", {"item_keys": ["API-1", "API-2"]})
    await _call(client, ada, "POST", f"{sprint_url}/start")
    await _call(client, ada, "PATCH", "/items/API-2", {"assignee": "bob"})
    await _call(
        client,
        ada,
        "PATCH",
        "/items/API-2",
        {"assignee": "ada", "title": "Export the sprint report as CSV"},
    )
    await _call(client, ada, "PATCH", "/items/API-2", {"assignee": None})  # no message
    await _call(client, ada, "POST", f"{sprint_url}/items", {"item_keys": ["API-3"]})
    await _call(client, ada, "PATCH", "/items/API-1", {"status": "Done"})  # no message
    await _call(client, ada, "POST", f"{sprint_url}/complete", {"carry_over_to": "backlog"})

    events = await _event_log(client, ada)
    sent = [(e["type"], slack_message(e, public_url=PUBLIC_URL)) for e in events]
    messages = [(kind, m) for kind, m in sent if m is not None]

    assert [kind for kind, _ in messages] == [
        "item.created",
        "sprint.started",
        "item.updated",
        "item.updated",
        "sprint.completed",
    ]
    recorded = [
        "item_created_assigned",
        "sprint_started",
        "item_assigned",
        "item_reassigned_with_new_title",
        "sprint_completed",
    ]
    for name, (_, message) in zip(recorded, messages, strict=True):
        assert _placeholders(message, {"sprint_id": sprint["id"]}) == _expected(name), name
        _within_slack_limits(message)
        _assert_no_injection(message)
    # The other events of the story (items created unassigned, the sprint planned, its scope,
    # a status change, an unassignment, the carry-over) send nothing.
    assert {kind for kind, m in sent if m is None} >= {
        "item.created",
        "item.updated",
        "sprint.created",
        "sprint.scope_changed",
    }


async def test_mentions_and_links_in_a_title_reach_slack_as_text(
    app: FastAPI, db: Database, client: AsyncClient
) -> None:
    people = await team(app, db)
    title = "Ping <!channel> & <@U123> about <https://evil.example|the fix>"
    await new_item(client, people["ada"], title=title, assignee="bob")

    [created] = [e for e in await _event_log(client, people["ada"]) if e["type"] == "item.created"]
    message = slack_message(created, public_url=PUBLIC_URL)

    assert message is not None
    escaped = "Ping &lt;!channel&gt; &amp; &lt;@U123&gt; about &lt;https://evil.example|the fix&gt;"
    assert message["blocks"][0]["text"]["text"] == (
        f":bust_in_silhouette: *<https://takt.example.com/items/API-1|API-1>* {escaped}\n"
        "Assigned to *bob*"
    )
    assert message["text"] == f"ada created API-1 “{escaped}”, assigned to bob."
    _assert_no_injection(message)


async def test_a_very_long_title_is_cut_at_150_characters(
    app: FastAPI, db: Database, client: AsyncClient
) -> None:
    people = await team(app, db)
    title = "Long " + "x" * 250  # 255, the longest title an item may have
    await new_item(client, people["ada"], title=title, assignee="bob")

    [created] = [e for e in await _event_log(client, people["ada"]) if e["type"] == "item.created"]
    message = slack_message(created, public_url=PUBLIC_URL)

    assert message is not None
    cut = title[:149] + "…"
    section = message["blocks"][0]["text"]["text"]
    assert f"API-1>* {cut}\n" in section
    assert title[:150] not in json.dumps(message, ensure_ascii=False)
    _within_slack_limits(message)


def test_a_test_ping_gives_the_recorded_message() -> None:
    # The body `webhooks.service.send_test` stores, which the delivery engine hands over.
    ping = {
        "type": "webhook.test",
        "timestamp": "2026-11-27T12:00:00Z",
        "data": {
            "webhook_id": "00000000-0000-4000-8000-000000000002",
            "project_key": "API",
            "message": "A test ping from Takt: this endpoint is set up to receive API's events.",
        },
    }

    assert slack_message(ping, public_url=PUBLIC_URL) == _expected("test_ping")


# Event types Slack isn't sent -------------------------------------------------------------


def test_only_the_listed_event_types_make_messages() -> None:
    assert slack_event_types() == {
        "sprint.started",
        "sprint.completed",
        "item.created",
        "item.updated",
    }


def test_events_slack_is_not_sent_give_none() -> None:
    not_sent = [
        _envelope(SprintCreated(id="s", name="S", start_date="2026-12-01", end_date="2026-12-14")),
        _envelope(ItemDeleted(key="API-1", title="Gone")),
        _envelope(Probe(label="a test's own event")),
        _envelope(_created("Nobody's yet", assignee=None)),
        _envelope(ItemUpdated(key="API-1"), ItemChanges(priority=("low", "high"))),
        _envelope(ItemUpdated(key="API-1"), ItemChanges(assignee=("bob", None))),
        # History an import brought in is not news.
        _envelope(_created("Imported", assignee="bob"), imported=True),
    ]
    for sent in not_sent:
        assert slack_message(sent, public_url=PUBLIC_URL) is None, sent["type"]
    unknown = {**not_sent[0], "type": "standup.summarised"}
    assert slack_message(unknown, public_url=PUBLIC_URL) is None


def test_an_envelope_that_does_not_fit_its_type_sends_nothing_rather_than_failing() -> None:
    broken = {**_envelope(SprintStarted(id="s", name="S", committed_items=1, committed_points=1))}
    broken["data"] = {"id": "s"}
    assert slack_message(broken, public_url=PUBLIC_URL) is None
    no_report = _envelope(SprintCompleted(id="s", name="S", report={"say_do_ratio": 1}))
    assert slack_message(no_report, public_url=PUBLIC_URL) is None


# What the recorded story doesn't reach ----------------------------------------------------


def test_a_completed_sprint_links_the_sprint_its_unfinished_work_went_to() -> None:
    message = slack_message(
        _envelope(SprintCompleted(id="s1", name="Sprint <7>", report=REPORT)),
        public_url="https://takt.example.com",
    )

    assert message is not None
    section = message["blocks"][1]
    assert section["text"]["text"] == (
        "*<https://takt.example.com/sprints/s1|Sprint &lt;7&gt;>* completed in *API*."
    )
    fields = [field["text"] for field in section["fields"]]
    assert fields[1] == "*Completed*\n3 items · 7.5 points"
    assert fields[4] == (
        "*Carried over*\n1 item · 1 point → "
        "<https://takt.example.com/sprints/next-sprint-id|planned sprint>"
    )
    assert fields[5] == "*Say/do ratio*\n13%"
    assert [e["text"] for e in message["blocks"][2]["elements"]] == [
        "Completed by *ada*",
        "2 items unestimated, counted as 0 points",
    ]
    _assert_no_injection(message)


def test_a_sprint_with_no_commitment_has_no_say_do_ratio() -> None:
    empty = {**REPORT, "committed": {"items": 0, "points": 0.0}, "say_do_ratio": None}
    message = slack_message(
        _envelope(SprintCompleted(id="s1", name="S", report=empty)), public_url=PUBLIC_URL
    )

    assert message is not None
    assert message["blocks"][1]["fields"][5]["text"] == "*Say/do ratio*\nn/a"


def test_a_sprint_start_shows_dates_and_goal_once_the_event_carries_them() -> None:
    started = _envelope(SprintStarted(id="s1", name="S", committed_items=1, committed_points=2))
    started["data"] |= {
        "start_date": "2026-12-01",
        "end_date": "2026-12-14",
        "goal": "Ship <!here> & go",
    }

    message = slack_message(started, public_url=PUBLIC_URL)

    assert message is not None
    assert message["blocks"][1]["fields"][1]["text"] == "*Dates*\n2026-12-01 → 2026-12-14"
    assert message["blocks"][2]["text"]["text"] == "*Goal*\nShip &lt;!here&gt; &amp; go"


def test_an_assignment_made_by_the_server_itself_names_no_actor() -> None:
    message = slack_message(
        _envelope(ItemUpdated(key="API-9"), ItemChanges(assignee=(None, "bob")), actor=None),
        public_url=PUBLIC_URL,
    )

    assert message is not None
    assert message["text"] == "API-9 was assigned to bob."
    assert [e["text"] for e in message["blocks"][1]["elements"]] == ["Project *API*"]


def test_cutting_assembled_text_never_leaves_half_a_link_or_an_entity() -> None:
    text = "<https://takt.example.com/items/API-1|API-1> &amp; " * 100
    for limit in range(40, 200):
        cut = _cut_mrkdwn(text, limit)
        assert len(cut) <= limit
        assert cut.endswith("…")
        assert OWN_LINK.sub("", cut).count("<") == 0, cut
        assert re.fullmatch(r"([^&]|&(amp|lt|gt);)*", OWN_LINK.sub("", cut), flags=re.DOTALL)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    title=st.text(min_size=1, max_size=400),
    name=st.text(min_size=1, max_size=400),
    username=st.text(min_size=1, max_size=60),
)
def test_any_user_text_stays_text_and_within_slack_limits(
    title: str, name: str, username: str
) -> None:
    envelopes = [
        _envelope(_created(title, assignee=username), actor=username),
        _envelope(
            ItemUpdated(key="API-1"),
            ItemChanges(assignee=(username, username), title=(title, title)),
            actor=username,
        ),
        _envelope(
            SprintStarted(id="s", name=name, committed_items=1, committed_points=1),
            actor=username,
        ),
        _envelope(SprintCompleted(id="s", name=name, report=REPORT), actor=username),
    ]
    for sent in envelopes:
        message = slack_message(sent, public_url=PUBLIC_URL)
        assert message is not None
        _within_slack_limits(message)
        _assert_no_injection(message)
        json.dumps(message)
