"""Slack messages for webhooks of kind `slack`: the events a sprint and its assignments, stand-up
days and an escalated blocker write through the API (and the worker's sweeps), read back from the
event log, give the recorded, hand-written payloads of slack_expected/; user text can't become a
link or a mention, and long text is cut."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from takt.blockers import jobs as blocker_jobs
from takt.blockers.events import BlockerEscalated, BlockerRaised
from takt.core.db import Database
from takt.core.events import Event, EventChanges, EventData, envelope
from takt.core.jobs import JobContext
from takt.core.time import clock_at, utcnow
from takt.deployments.events import DeploymentFailed, DeploymentSucceeded
from takt.incidents.events import IncidentOpened, IncidentResolved
from takt.items.events import ItemChanges, ItemCreated, ItemDeleted, ItemUpdated
from takt.sprints.events import SprintCompleted, SprintCreated, SprintStarted
from takt.standups.events import SharedAnswers, StandupSummaryReady
from takt.standups.jobs import record_due_summaries
from takt.webhooks.slack import _cut_mrkdwn, slack_event_types, slack_message
from tests.blockers.kit import raise_on, use_calendar
from tests.support import Account, Probe, add_member, make_user, new_item, team

PUBLIC_URL = "https://takt.example.com/"  # the trailing slash must not double in links
EXPECTED = Path(__file__).parent / "slack_expected"
# Our own links, the only `<…>` a message may hold.
OWN_LINK = re.compile(
    r"<https://takt\.example\.com/(items|sprints|projects|deployments|incidents)/[^|<>]+\|[^<>]*>"
)


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
    assert len(message["blocks"]) <= 50
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


def _summary(**fields: Any) -> StandupSummaryReady:
    """A stand-up day's summary event; `fields` override the defaults."""
    defaults: dict[str, Any] = {
        "date": "2026-11-16",
        "cutoff_at": "2026-11-16T10:00:00Z",
        "expected": 3,
        "submitted": 2,
        "participation": 0.6667,
        "blocked_rate": 0.5,
        "open_blockers": 2,
        "missing": ["cid"],
        "sprint_id": "s1",
        "sprint_probability": 0.8,
        "sprint_probability_change": None,
    }
    return StandupSummaryReady(**(defaults | fields))


def _escalated(**extra: Any) -> dict[str, Any]:
    """An escalation's envelope, with `extra` data a later payload may carry."""
    sent = _envelope(
        BlockerEscalated(id="b1", item_key="API-7", age_working_hours=1, threshold_hours=0.5),
        actor=None,
    )
    sent["data"] |= extra
    return sent


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


# Recorded payloads of the ceremonies: stand-up days and an escalated blocker ----------------

MONDAY, TUESDAY = "2026-11-16", "2026-11-17"


def _utc(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment of November 2026, UTC (the project's default time zone)."""
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def _job(app: FastAPI, db: Database) -> JobContext:
    return JobContext(database=db, settings=app.state.settings, worker_id="test-worker")


async def _at(
    client: AsyncClient,
    who: Account,
    at: datetime,
    method: str,
    url: str,
    body: dict[str, Any] | None = None,
) -> dict[str, Any]:
    with clock_at(at):
        return await _call(client, who, method, url, body)


async def _throughput(client: AsyncClient, ada: Account) -> None:
    """One item finished on each working day from 2 to 13 November: the history the sprint's
    forecast reads."""
    day = _utc(2, 9)
    while day < _utc(14, 0):
        if day.weekday() < 5:
            with clock_at(day):
                key = (await new_item(client, ada, title="Earlier work"))["key"]
            await _at(client, ada, day, "PATCH", f"/items/{key}", {"status": "Done"})
        day += timedelta(days=1)


async def test_stand_up_days_give_the_recorded_summaries(
    app: FastAPI, db: Database, client: AsyncClient
) -> None:
    people = await team(app, db)
    ada, bob = people["ada"], people["bob"]
    project = await _call(client, ada, "GET", "/projects/API")
    cid = await make_user(app, db, "cid")
    await add_member(db, project["id"], cid, "member")
    await _throughput(client, ada)
    monday_early = _utc(16, 7)
    sprint = await _at(
        client,
        ada,
        monday_early,
        "POST",
        "/projects/API/sprints",
        {"name": "Sprint 1", "start_date": MONDAY, "end_date": "2026-11-20"},
    )
    with clock_at(monday_early):
        keys = [
            (await new_item(client, ada, title=f"Sprint work {n}", sprint_id=sprint["id"]))["key"]
            for n in range(6)
        ]
        stuck = (await new_item(client, bob, title="Refunds through the bank"))["key"]
    await _at(client, ada, monday_early, "POST", f"/sprints/{sprint['id']}/start")
    # Monday: only bob checks in, blocked; six items for five days at one a day can't finish.
    await _at(
        client,
        bob,
        _utc(16, 9),
        "PUT",
        f"/projects/API/standups/{MONDAY}/me",
        {
            "answers": {"today": "Refunds"},
            "blockers": [
                {
                    "item_key": stuck,
                    "reason": "The bank's sandbox is down",
                    "waiting_on": {"kind": "external", "name": "The bank"},
                }
            ],
        },
    )
    with clock_at(_utc(16, 10, 5)):
        await record_due_summaries(_job(app, db))
    for key in keys[:2]:
        await _at(client, ada, _utc(16, 15), "PATCH", f"/items/{key}", {"status": "Done"})
    # From Tuesday the project shares answers, and asks a yes-or-no question too.
    questions = [
        {"id": "yesterday", "text": "What did you do since the last stand-up?", "kind": "text"},
        {"id": "today", "text": "What will you do today?", "kind": "text"},
        {"id": "on_track", "text": "Is the sprint on track?", "kind": "yes_no"},
    ]
    config = {"questions": questions, "share_answers_in_events": True}
    await _at(client, ada, _utc(16, 16), "PUT", "/projects/API/standup-config", config)
    # Tuesday: four items for four days, at least one a day: it surely finishes.
    tuesday = f"/projects/API/standups/{TUESDAY}/me"
    await _at(
        client,
        bob,
        _utc(17, 9),
        "PUT",
        tuesday,
        {
            "answers": {
                "yesterday": "Refunds, up to the bank's sandbox",
                "today": "Pair with ada on <!here> & the CSV export",
                "on_track": True,
            }
        },
    )
    await _at(client, ada, _utc(17, 9), "PUT", tuesday, {"answers": {"on_track": False}})
    with clock_at(_utc(17, 10, 5)):
        await record_due_summaries(_job(app, db))

    events = await _event_log(client, ada)
    summaries = [e for e in events if e["type"] == "standup.summary_ready"]
    messages = [slack_message(e, public_url=PUBLIC_URL) for e in summaries]

    assert [e["data"]["date"] for e in summaries] == [MONDAY, TUESDAY]
    for name, message in zip(["standup_monday", "standup_tuesday"], messages, strict=True):
        assert message is not None
        assert _placeholders(message, {"sprint_id": sprint["id"]}) == _expected(name), name
        _within_slack_limits(message)
        _assert_no_injection(message)


def _berlin(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A moment of 2026 on Berlin's wall clock (summer time from 29 March)."""
    summer = (month, day) >= (3, 29) and (month, day) < (10, 25)
    return datetime(2026, month, day, hour - (2 if summer else 1), minute, tzinfo=UTC)


async def test_an_escalated_blocker_gives_the_recorded_message(
    app: FastAPI, db: Database, client: AsyncClient
) -> None:
    people = await team(app, db)
    bob = people["bob"]
    await use_calendar(client, people["ada"])
    key = (await new_item(client, bob, title="Refunds through the bank"))["key"]
    await raise_on(client, bob, key, at=_berlin(3, 27, 16))
    # 1 working hour on Friday, 8 on Monday, 7.5 on Tuesday: past the default 16.
    with clock_at(_berlin(3, 31, 16, 30)):
        await blocker_jobs.escalate(_job(app, db))

    events = await _event_log(client, bob)
    [escalated] = [e for e in events if e["type"] == "blocker.escalated"]
    message = slack_message(escalated, public_url=PUBLIC_URL)

    assert message is not None
    assert message == _expected("blocker_escalated")
    _within_slack_limits(message)
    _assert_no_injection(message)
    # Raising, like the other blocker events, is no news for the channel.
    [raised] = [e for e in events if e["type"] == "blocker.raised"]
    assert slack_message(raised, public_url=PUBLIC_URL) is None


def test_an_escalated_blocker_shows_reason_waiting_on_and_raiser_once_the_event_carries_them() -> (
    None
):
    # Built by hand: text that must be escaped in each part the sweep's payload carries.
    escalated = _envelope(
        BlockerEscalated(id="b1", item_key="API-7", age_working_hours=18.25, threshold_hours=16),
        actor=None,
    )
    escalated["data"] |= {
        "reason": "The bank's sandbox rejects <!channel> & every refund",
        "waiting_on": {"kind": "external", "name": "The bank"},
        "raised_by": "bob",
    }

    message = slack_message(escalated, public_url=PUBLIC_URL)

    assert message == _expected("blocker_escalated_in_full")


# Event types Slack isn't sent -------------------------------------------------------------


def test_only_the_listed_event_types_make_messages() -> None:
    assert slack_event_types() == {
        "sprint.started",
        "sprint.completed",
        "item.created",
        "item.updated",
        "standup.summary_ready",
        "blocker.escalated",
        "deployment.succeeded",
        "deployment.failed",
        "incident.opened",
        "incident.resolved",
    }


def test_events_slack_is_not_sent_give_none() -> None:
    not_sent = [
        _envelope(SprintCreated(id="s", name="S", start_date="2026-12-01", end_date="2026-12-14")),
        _envelope(ItemDeleted(key="API-1", title="Gone")),
        _envelope(Probe(label="a test's own event")),
        _envelope(_created("Nobody's yet", assignee=None)),
        _envelope(ItemUpdated(key="API-1"), ItemChanges(priority=("low", "high"))),
        _envelope(ItemUpdated(key="API-1"), ItemChanges(assignee=("bob", None))),
        _envelope(
            BlockerRaised(
                id="b1", item_key="API-1", reason="r", waiting_on={"kind": "team", "name": "Ops"}
            )
        ),
        # A summary or an escalation an import brought in is history too.
        _envelope(_summary(), actor=None, imported=True),
        {**_escalated(), "imported": True},
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
    summary = _envelope(_summary(), actor=None)
    no_date = {**summary, "data": {k: v for k, v in summary["data"].items() if k != "date"}}
    assert slack_message(no_date, public_url=PUBLIC_URL) is None
    odd_answers = {**summary, "data": {**summary["data"], "answers": [{"answers": "x"}]}}
    assert slack_message(odd_answers, public_url=PUBLIC_URL) is None
    no_age = _escalated()
    del no_age["data"]["age_working_hours"]
    assert slack_message(no_age, public_url=PUBLIC_URL) is None


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


def test_a_summary_with_nobody_expected_and_no_sprint_says_so() -> None:
    nobody = _summary(
        expected=0,
        submitted=0,
        participation=None,
        blocked_rate=None,
        open_blockers=0,
        missing=[],
        sprint_id=None,
        sprint_probability=None,
    )

    message = slack_message(_envelope(nobody, actor=None), public_url=PUBLIC_URL)

    assert message is not None
    assert [field["text"] for field in message["blocks"][1]["fields"]] == [
        "*Participation*\nn/a",
        "*Blocked rate*\nn/a",
        "*Open blockers*\n0",
        "*Not checked in*\nnobody",
    ]
    assert message["text"] == "Stand-up of 2026-11-16 in API: 0 of 0 checked in, 0 open blockers."


def test_a_summary_says_how_the_sprints_chance_moved() -> None:
    def outlook(probability: float, change: float | None) -> str:
        summary = _summary(sprint_probability=probability, sprint_probability_change=change)
        message = slack_message(_envelope(summary, actor=None), public_url=PUBLIC_URL)
        assert message is not None
        text: str = message["blocks"][1]["fields"][4]["text"]
        return text.removeprefix("*Sprint forecast*\n<https://takt.example.com/sprints/s1|")

    assert outlook(0.8, None) == "80% chance to finish>"
    assert outlook(0.8, -0.15) == "80% chance to finish>, down from 95% at the last stand-up"
    assert outlook(0.8, 0.001) == "80% chance to finish>, unchanged since the last stand-up"


def test_a_summary_shows_answers_in_a_stand_ups_order_and_at_most_twenty_people() -> None:
    people = [
        SharedAnswers(
            username=f"dev{n:02}",
            answers={"on_track": n % 2 == 0, "blockers": "", "today": "Code", "yesterday": "Tea"},
        )
        for n in range(25)
    ]
    shared = _envelope(_summary(answers=people), actor=None)
    shared["data"]["answers"][0]["mood"] = "a field a later version adds"
    shared["data"]["answers"].append({"username": "quiet", "answers": {"today": "  "}})

    message = slack_message(shared, public_url=PUBLIC_URL)

    assert message is not None
    blocks = message["blocks"]
    assert blocks[3] == {"type": "divider"}
    assert blocks[4]["text"]["text"] == (
        ":speech_balloon: *dev00*\n*Yesterday*: Tea\n*Today*: Code\n*On track*: yes"
    )
    assert blocks[23]["text"]["text"].startswith(":speech_balloon: *dev19*\n")
    # Nobody's empty answers make no section, and the rest of the day waits on its page.
    assert blocks[24]["elements"][0]["text"] == (
        "5 more people answered: see "
        "<https://takt.example.com/projects/API/standups/2026-11-16|the summary>"
    )
    assert len(blocks) == 25
    _within_slack_limits(message)


def test_a_summary_without_shared_answers_shows_none() -> None:
    message = slack_message(_envelope(_summary(), actor=None), public_url=PUBLIC_URL)

    assert message is not None
    assert [block["type"] for block in message["blocks"]] == ["header", "section", "context"]
    assert "answers" not in json.dumps(message)


def test_an_escalated_blocker_names_whom_it_waits_on_by_kind() -> None:
    def waiting_on(value: Any) -> list[str]:
        message = slack_message(_escalated(waiting_on=value), public_url=PUBLIC_URL)
        assert message is not None
        return [field["text"] for field in message["blocks"][1].get("fields", [])]

    assert waiting_on({"kind": "person", "user": "maya"}) == ["*Waiting on*\n*maya*"]
    assert waiting_on({"kind": "team", "name": "Ops <team>"}) == [
        "*Waiting on*\n*Ops &lt;team&gt;* (team)"
    ]
    assert waiting_on({"kind": "item", "item_key": "API-9"}) == [
        "*Waiting on*\n*<https://takt.example.com/items/API-9|API-9>*"
    ]
    # What can't be read is left out, not a reason to send nothing.
    assert waiting_on({"kind": "person"}) == []
    assert waiting_on("Ops") == []
    assert waiting_on({"kind": "galaxy", "name": "Andromeda"}) == []


def test_an_escalated_blocker_counts_an_hour_in_the_singular() -> None:
    message = slack_message(_escalated(), public_url=PUBLIC_URL)

    assert message is not None
    assert message["text"] == "Blocker escalated: API-7 in API has been blocked for 1 working hour."
    assert "threshold of 0.5." in message["blocks"][1]["text"]["text"]


def test_a_very_long_blocker_reason_is_cut_at_1000_characters() -> None:
    reason = "r" * 2000  # the longest reason a blocker may have
    message = slack_message(_escalated(reason=reason), public_url=PUBLIC_URL)

    assert message is not None
    assert message["blocks"][2]["text"]["text"] == "*Reason*\n" + "r" * 999 + "…"


def test_cutting_assembled_text_never_leaves_half_a_link_or_an_entity() -> None:
    text = "<https://takt.example.com/items/API-1|API-1> &amp; " * 100
    for limit in range(40, 200):
        cut = _cut_mrkdwn(text, limit)
        assert len(cut) <= limit
        assert cut.endswith("…")
        assert OWN_LINK.sub("", cut).count("<") == 0, cut
        assert re.fullmatch(r"([^&]|&(amp|lt|gt);)*", OWN_LINK.sub("", cut), flags=re.DOTALL)


def _user_text(min_size: int, max_size: int) -> st.SearchStrategy[str]:
    """Any text, with Slack's control characters and mention openers drawn often."""
    # Any text a database can hold: both refuse a lone surrogate (not UTF-8), so no stored name
    # or key, and no event about one, can carry it.
    alphabet = st.characters(codec="utf-8") | st.sampled_from("<>&|!@#")
    return st.text(alphabet, min_size=min_size, max_size=max_size)


def _deployments_and_incidents(title: str, name: str, username: str) -> list[dict[str, Any]]:
    """The four messages of deployments and incidents (tests/webhooks/test_slack_deployments.py
    says what each shows)."""
    deployment = {
        "id": "d1",
        "environment_id": "e1",
        "environment": name,
        "environment_type": name,
        "state": "success",
        "ref": name,
        "sha": name,
        "version": title,
        "triggered_by": username,
        "item_keys": [name] * 20,
    }
    incident = {
        "id": "i1",
        "number": 1,
        "title": title,
        "severity": name,
        "state": "open",
        "environment_id": "e1",
        "environment": name,
        "caused_by_deployment_id": "d1",
        "fixed_by_deployment_id": "d2",
    }
    return [
        _envelope(DeploymentSucceeded(**deployment, commit_count=3), actor=username),
        _envelope(DeploymentFailed(**deployment, reason=name), actor=username),
        _envelope(IncidentOpened(**incident), actor=username),
        _envelope(IncidentResolved(**incident, resolved_at=name), actor=username),
    ]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    title=_user_text(1, 400),
    name=_user_text(1, 400),
    username=_user_text(1, 60),
    answer=_user_text(0, 4000) | st.booleans(),
    reason=_user_text(1, 2000),
)
def test_any_user_text_stays_text_and_within_slack_limits(
    title: str, name: str, username: str, answer: str | bool, reason: str
) -> None:
    shared = [
        SharedAnswers(username=username, answers={f"q{n}": answer for n in range(10)})
        for _ in range(30)
    ]
    summary = _summary(missing=[username] * 100, answers=shared)
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
        _envelope(summary, actor=None),
        _escalated(
            reason=reason, waiting_on={"kind": "external", "name": name}, raised_by=username
        ),
        *_deployments_and_incidents(title, name, username),
    ]
    # Every kind of message is here: a new formatter joins this test.
    assert {sent["type"] for sent in envelopes} == slack_event_types()
    for sent in envelopes:
        message = slack_message(sent, public_url=PUBLIC_URL)
        assert message is not None
        _within_slack_limits(message)
        _assert_no_injection(message)
        json.dumps(message)
