"""Slack messages for webhooks of kind `slack`: an event envelope as Block Kit.

The delivery engine posts what `slack_message` returns, as JSON, to the endpoint's incoming-webhook
URL. Only some event types make a message (the `FORMATTERS` table); for the others there is
nothing to send.

Everything a user typed (titles, sprint names and goals, usernames, stand-up answers, blocker
reasons) reaches Slack escaped, so it can't add links or mentions (`<!channel>`, `<@U123>`), and
only in `mrkdwn` text: headers hold our own words. Block texts set `verbatim`, so Slack doesn't
make links or mentions of bare URLs, `#channel` or `@channel` in them either. Texts are cut below
Slack's limits, before escaping so no cut falls inside an entity.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import quote

from pydantic import BaseModel, TypeAdapter, ValidationError

from takt.blockers.events import BlockerEscalated
from takt.deployments.events import DeploymentEvent, DeploymentFailed, DeploymentSucceeded
from takt.incidents.events import IncidentEvent, IncidentOpened, IncidentResolved
from takt.items.events import ItemChanges, ItemCreated, ItemUpdated
from takt.sprints.events import SprintCompleted, SprintStarted
from takt.standups.calendar import DEFAULT_QUESTIONS
from takt.standups.events import StandupSummaryReady

Message = dict[str, Any]
Block = dict[str, Any]
Model = TypeVar("Model", bound=BaseModel)

# Slack's limits (Block Kit reference): a header's plain_text, a section's text, each of a
# section's fields (at most 10), the elements of a context block (at most 10).
HEADER_LIMIT = 150
SECTION_LIMIT = 3000
FIELD_LIMIT = 2000
MAX_FIELDS = 10
MAX_CONTEXT_ELEMENTS = 10
# Our own bounds on one user text: long enough to recognise, short enough for a channel.
NAME_LIMIT = 150
GOAL_LIMIT = 1000
REASON_LIMIT = 1000
ANSWER_LIMIT = 500
# A stand-up summary shows this many people's shared answers; the rest are on its page. With the
# summary's own blocks the message stays well under Slack's 50 blocks.
MAX_ANSWER_ENTRIES = 20
ELLIPSIS = "…"
# A webhook's test ping (`webhooks.service.TEST_EVENT_TYPE`): not an event of the log, but the
# delivery engine asks for its message the same way, with the ping's body as the envelope.
TEST_PING = "webhook.test"


def slack_message(envelope: Mapping[str, Any], *, public_url: str) -> Message | None:
    """The Slack message (`{"text", "blocks"}`) for one event envelope (API.md, Events), or None
    when Slack isn't sent this event.

    `public_url` is the server's address as users reach it: messages link back to
    `{public_url}/items/{key}`, `{public_url}/sprints/{id}`, `{public_url}/deployments/{id}`,
    `{public_url}/incidents/{id}` and `{public_url}/projects/{project_key}/standups/{date}`.
    Events brought in by an import
    are history, not news: they send nothing.
    """
    formatter = FORMATTERS.get(str(envelope.get("type")))
    if formatter is None or envelope.get("imported"):
        return None
    return formatter(_Event.of(envelope), _Links(public_url.rstrip("/")))


def slack_event_types() -> frozenset[str]:
    """The event types of the log that can make a Slack message (others are never sent to
    Slack)."""
    return frozenset(FORMATTERS) - {TEST_PING}


# The envelope, read --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Event:
    project_key: str | None
    actor: str | None
    data: Mapping[str, Any]
    changes: Mapping[str, Any]

    @classmethod
    def of(cls, envelope: Mapping[str, Any]) -> _Event:
        actor = envelope.get("actor")
        return cls(
            project_key=envelope.get("project_key"),
            # A deleted account's events keep its id but no longer have a username.
            actor=(actor.get("username") or "someone") if actor else None,
            data=envelope.get("data") or {},
            changes=envelope.get("changes") or {},
        )


@dataclass(frozen=True)
class _Links:
    base: str

    def item(self, key: str, text: str) -> str:
        return _link(f"{self.base}/items/{quote(key, safe='')}", text)

    def sprint(self, sprint_id: str, text: str) -> str:
        return _link(f"{self.base}/sprints/{quote(sprint_id, safe='')}", text)

    def deployment(self, deployment_id: str, text: str) -> str:
        return _link(f"{self.base}/deployments/{quote(deployment_id, safe='')}", text)

    def incident(self, incident_id: str, text: str) -> str:
        return _link(f"{self.base}/incidents/{quote(incident_id, safe='')}", text)

    def standup(self, project_key: str, day: str, text: str) -> str:
        path = f"projects/{quote(project_key, safe='')}/standups/{quote(day, safe='')}"
        return _link(f"{self.base}/{path}", text)


def _parse(model: type[Model], payload: Mapping[str, Any]) -> Model | None:
    """The payload read through its catalogue model, fields the model doesn't know left out (a
    newer payload still reads); None if it doesn't fit, so the message is skipped rather than
    the delivery failing on every retry."""
    names = {field.alias or name for name, field in model.model_fields.items()}
    known = {name: value for name, value in payload.items() if name in names}
    try:
        return model.model_validate(known)
    except ValidationError:
        return None


# Text ----------------------------------------------------------------------------------------


def escape(text: str) -> str:
    """Slack's three control characters as entities: user text can't open a link or mention."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cut(text: str, limit: int) -> str:
    """At most `limit` characters, an ellipsis marking a cut."""
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + ELLIPSIS


def _line(text: str, limit: int = NAME_LIMIT) -> str:
    """A user's one-line text (title, name), cut and escaped for mrkdwn."""
    return escape(_cut(" ".join(text.split()), limit))


def _cut_mrkdwn(text: str, limit: int) -> str:
    """A safety net for assembled mrkdwn: a cut never leaves half a link or half an entity
    (every `&` in our mrkdwn starts an entity, every `<` a link)."""
    if len(text) <= limit:
        return text
    kept = text[: limit - 1]
    opened = kept.rfind("<")
    if opened > kept.rfind(">"):
        kept = kept[:opened]
    amp = kept.rfind("&")
    if amp >= 0 and ";" not in kept[amp:]:
        kept = kept[:amp]
    return kept + ELLIPSIS


def _link(url: str, text: str) -> str:
    """`<url|text>`; `text` must already be escaped."""
    return f"<{url}|{text}>"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _number(number: float) -> str:
    """At most two decimals, none when they are zeros: 7.5, 3, 16.25."""
    return f"{number:.2f}".rstrip("0").rstrip(".")


def _points(points: float) -> str:
    shown = _number(points)
    return f"{shown} point" if shown == "1" else f"{shown} points"


def _hours(hours: float) -> str:
    shown = _number(hours)
    return f"{shown} working hour" if shown == "1" else f"{shown} working hours"


def _percent(ratio: float) -> str:
    # Halves round up, as people do (Python's round() would make 0.125 "12%").
    return f"{math.floor(ratio * 100 + 0.5)}%"


def _tally(items: int, points: float) -> str:
    return f"{_count(items, 'item')} · {_points(points)}"


# Blocks --------------------------------------------------------------------------------------


def _mrkdwn(text: str, limit: int = SECTION_LIMIT) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": _cut_mrkdwn(text, limit), "verbatim": True}


def _header(text: str) -> Block:
    return {
        "type": "header",
        "text": {"type": "plain_text", "text": _cut(text, HEADER_LIMIT), "emoji": True},
    }


def _section(text: str, fields: list[str] | None = None) -> Block:
    block: Block = {"type": "section", "text": _mrkdwn(text)}
    if fields:
        block["fields"] = [_mrkdwn(field, FIELD_LIMIT) for field in fields[:MAX_FIELDS]]
    return block


def _divider() -> Block:
    return {"type": "divider"}


def _context(*elements: str) -> Block:
    return {
        "type": "context",
        "elements": [_mrkdwn(element) for element in elements[:MAX_CONTEXT_ELEMENTS]],
    }


def _message(text: str, blocks: list[Block]) -> Message:
    """`text` is the plain fallback notifications and screen readers show (Slack reads it as
    mrkdwn too, so it is escaped like the blocks)."""
    return {"text": _cut_mrkdwn(text, SECTION_LIMIT), "blocks": blocks}


def _by(verb: str, event: _Event) -> list[str]:
    """The context line naming who did it (none for a change the server made by itself)."""
    return [f"{verb} by *{_line(event.actor)}*"] if event.actor else []


def _in_project(event: _Event, *, bold: bool = True) -> str:
    if not event.project_key:
        return ""
    key = _line(event.project_key)
    return f" in *{key}*" if bold else f" in {key}"


# Formatters: one per event type --------------------------------------------------------------

Formatter = Callable[[_Event, _Links], Message | None]


def _sprint_started(event: _Event, links: _Links) -> Message | None:
    data = _parse(SprintStarted, event.data)
    if data is None:
        return None
    name = _line(data.name)
    committed = _tally(data.committed_items, data.committed_points)
    fields = [f"*Committed*\n{committed}"]
    # Not in today's payload; shown as soon as the event carries them.
    start, end = event.data.get("start_date"), event.data.get("end_date")
    if isinstance(start, str) and isinstance(end, str):
        fields.append(f"*Dates*\n{_line(start)} → {_line(end)}")
    blocks = [
        _header(":rocket: Sprint started"),
        _section(f"*{links.sprint(data.id, name)}* started{_in_project(event)}.", fields),
    ]
    goal = event.data.get("goal")
    if isinstance(goal, str) and goal.strip():
        blocks.append(_section(f"*Goal*\n{escape(_cut(goal.strip(), GOAL_LIMIT))}"))
    if by := _by("Started", event):
        blocks.append(_context(*by))
    who = f"{_line(event.actor)} started sprint" if event.actor else "Sprint"
    text = f"{who} {name}{_in_project(event, bold=False)}: {committed} committed."
    return _message(text, blocks)


class _Tally(BaseModel):
    items: int
    points: float


class _Report(BaseModel):
    """What a Slack message shows of the frozen report (`sprints.schemas.SprintReport`); read
    leniently: a report frozen by an older version may lack a later field."""

    committed: _Tally
    completed: _Tally
    added: _Tally | None = None
    removed: _Tally | None = None
    carried_over: _Tally | None = None
    say_do_ratio: float | None = None
    unestimated: int = 0
    carried_over_to: str | None = None


def _sprint_completed(event: _Event, links: _Links) -> Message | None:
    data = _parse(SprintCompleted, event.data)
    report = _parse(_Report, data.report) if data else None
    if data is None or report is None:
        return None
    name = _line(data.name)
    ratio = "n/a" if report.say_do_ratio is None else _percent(report.say_do_ratio)
    fields = [
        f"*Committed*\n{_tally(report.committed.items, report.committed.points)}",
        f"*Completed*\n{_tally(report.completed.items, report.completed.points)}",
    ]
    for label, tally in (("Added", report.added), ("Removed", report.removed)):
        if tally is not None:
            fields.append(f"*{label}*\n{_tally(tally.items, tally.points)}")
    if (carried := report.carried_over) is not None:
        where = ""
        if carried.items and report.carried_over_to == "backlog":
            where = " → backlog"
        elif carried.items and report.carried_over_to:
            where = f" → {links.sprint(report.carried_over_to, 'planned sprint')}"
        fields.append(f"*Carried over*\n{_tally(carried.items, carried.points)}{where}")
    fields.append(f"*Say/do ratio*\n{ratio}")
    context = _by("Completed", event)
    if report.unestimated:
        context.append(f"{_count(report.unestimated, 'item')} unestimated, counted as 0 points")
    blocks = [
        _header(":checkered_flag: Sprint completed"),
        _section(f"*{links.sprint(data.id, name)}* completed{_in_project(event)}.", fields),
    ]
    if context:
        blocks.append(_context(*context))
    who = f"{_line(event.actor)} completed sprint" if event.actor else "Sprint"
    done = _tally(report.completed.items, report.completed.points)
    text = f"{who} {name}{_in_project(event, bold=False)}: {done} completed, say/do ratio {ratio}."
    return _message(text, blocks)


def _assignment(
    event: _Event,
    links: _Links,
    *,
    key: str,
    title: str | None,
    assignee: str,
    previous: str | None,
    verb: str,
) -> Message:
    """An item and who it went to: the message of `item.created` and `item.updated` alike."""
    item = f"*{links.item(key, _line(key))}*" + (f" {_line(title)}" if title else "")
    was = f" (was *{_line(previous)}*)" if previous else ""
    context = _by(verb, event)
    if event.project_key:
        context.append(f"Project *{_line(event.project_key)}*")
    blocks = [_section(f":bust_in_silhouette: {item}\nAssigned to *{_line(assignee)}*{was}")]
    if context:
        blocks.append(_context(*context))
    named = _line(key) + (f" “{_line(title)}”" if title else "")
    if verb == "Created":
        text = f"{_line(event.actor or 'someone')} created {named}, assigned to {_line(assignee)}."
    elif event.actor:
        text = f"{_line(event.actor)} assigned {named} to {_line(assignee)}."
    else:
        text = f"{named} was assigned to {_line(assignee)}."
    return _message(text, blocks)


def _item_created(event: _Event, links: _Links) -> Message | None:
    data = _parse(ItemCreated, event.data)
    if data is None or data.assignee is None:
        return None
    return _assignment(
        event,
        links,
        key=data.key,
        title=data.title,
        assignee=data.assignee,
        previous=None,
        verb="Created",
    )


def _item_updated(event: _Event, links: _Links) -> Message | None:
    """Only an assignment is news for a channel; any other change of an item sends nothing."""
    data = _parse(ItemUpdated, event.data)
    changes = _parse(ItemChanges, event.changes)
    if data is None or changes is None or changes.assignee is None:
        return None
    previous, assignee = changes.assignee
    if assignee is None:
        return None
    # `item.updated` names the item by key only; its title is known when it changed too, or
    # when the payload carries it (a later version of the event may add it).
    title = event.data.get("title")
    if not isinstance(title, str):
        title = changes.title[1] if changes.title else None
    return _assignment(
        event,
        links,
        key=data.key,
        title=title,
        assignee=assignee,
        previous=previous,
        verb="Assigned",
    )


def _test_ping(event: _Event, links: _Links) -> Message | None:
    """The test ping's body is `{"type", "timestamp", "data": {"project_key", …}}`."""
    project = event.data.get("project_key")
    about = f"project *{_line(project)}*" if isinstance(project, str) else "its project"
    where = f" of {_line(project)}" if isinstance(project, str) else ""
    return _message(
        f"A test message from Takt: this channel will receive events{where}.",
        [
            _section(
                f":wave: A test message from Takt: this channel will receive events of {about}."
            ),
        ],
    )


class _SharedAnswers(BaseModel):
    """One person's answers in a summary (`standups.events.SharedAnswers`), read leniently: a
    field a later version adds to an entry is left out, not a reason to skip the summary."""

    username: str
    answers: dict[str, str | bool]


_SHARED_ANSWERS = TypeAdapter(list[_SharedAnswers])


def _read_summary(
    payload: Mapping[str, Any],
) -> tuple[StandupSummaryReady, list[_SharedAnswers] | None] | None:
    """The summary through its catalogue model, its shared answers through the lenient one."""
    data = _parse(StandupSummaryReady, {k: v for k, v in payload.items() if k != "answers"})
    if data is None:
        return None
    shared = payload.get("answers")
    if shared is None:
        return data, None
    try:
        return data, _SHARED_ANSWERS.validate_python(shared)
    except ValidationError:
        return None


def _sprint_outlook(data: StandupSummaryReady, links: _Links) -> str | None:
    """The sprint's chance of finishing and how it moved since the previous stand-up day."""
    if data.sprint_probability is None:
        return None
    chance = f"{_percent(data.sprint_probability)} chance to finish"
    shown = links.sprint(data.sprint_id, chance) if data.sprint_id else chance
    change = data.sprint_probability_change
    if change is None:
        return shown
    before = _percent(data.sprint_probability - change)
    if before == _percent(data.sprint_probability):
        return f"{shown}, unchanged since the last stand-up"
    return f"{shown}, {'up' if change > 0 else 'down'} from {before} at the last stand-up"


def _as_of(cutoff_at: str) -> str:
    try:
        moment: datetime | None = datetime.fromisoformat(cutoff_at)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        return "As it stood at the cut-off"
    return f"As it stood at the cut-off, {moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


# The order answers are shown in. An event's answers come in no order of their own (PostgreSQL's
# jsonb keeps an object's keys in an order of its own), nor with the config's: the default
# questions come first, in a stand-up's order, then the others by id.
_FIRST_QUESTIONS = {str(question["id"]): n for n, question in enumerate(DEFAULT_QUESTIONS)}


def _question_order(question: str) -> tuple[int, str]:
    return _FIRST_QUESTIONS.get(question, len(_FIRST_QUESTIONS)), question


def _answers_block(shared: _SharedAnswers) -> Block | None:
    """One person's answers, by question (the event names questions by id: `on_track` reads
    "On track")."""
    lines = []
    for question in sorted(shared.answers, key=_question_order):
        answer = shared.answers[question]
        if isinstance(answer, bool):
            shown = "yes" if answer else "no"
        elif answer.strip():
            shown = escape(_cut(answer.strip(), ANSWER_LIMIT))
        else:
            continue
        lines.append(f"*{_line(question.replace('_', ' ').capitalize())}*: {shown}")
    if not lines:
        return None
    return _section("\n".join([f":speech_balloon: *{_line(shared.username)}*", *lines]))


def _standup_summary(event: _Event, links: _Links) -> Message | None:
    """A day's summary, recorded at its cut-off by the worker (no actor). Answers are shown
    only when the event carries them: the project chose to share them in events."""
    read = _read_summary(event.data)
    if read is None:
        return None
    data, shared = read
    day = _line(data.date)
    title = f"Stand-up of {day}"
    named = links.standup(event.project_key, data.date, title) if event.project_key else title
    checked_in = f"{data.submitted} of {data.expected} checked in"
    participation = "n/a" if data.participation is None else _percent(data.participation)
    missing = ", ".join(_line(name) for name in data.missing) or "nobody"
    fields = [
        f"*Participation*\n{participation}",
        f"*Blocked rate*\n{'n/a' if data.blocked_rate is None else _percent(data.blocked_rate)}",
        f"*Open blockers*\n{data.open_blockers}",
        f"*Not checked in*\n{missing}",
    ]
    if (outlook := _sprint_outlook(data, links)) is not None:
        fields.append(f"*Sprint forecast*\n{outlook}")
    blocks = [
        _header(":spiral_note_pad: Stand-up summary"),
        _section(f"*{named}*{_in_project(event)}: {checked_in}.", fields),
        _context(_as_of(data.cutoff_at)),
    ]
    answered = [b for b in map(_answers_block, shared or []) if b is not None]
    if answered:
        blocks += [_divider(), *answered[:MAX_ANSWER_ENTRIES]]
    if len(answered) > MAX_ANSWER_ENTRIES:
        left = len(answered) - MAX_ANSWER_ENTRIES
        more = f"{left} more {'person' if left == 1 else 'people'} answered"
        page = (
            links.standup(event.project_key, data.date, "the summary")
            if event.project_key
            else "the summary"
        )
        blocks.append(_context(f"{more}: see {page}"))
    text = f"{title}{_in_project(event, bold=False)}: {checked_in}, " + _count(
        data.open_blockers, "open blocker"
    )
    if data.missing:
        text += f"; not checked in: {', '.join(_line(name) for name in data.missing)}"
    return _message(f"{text}.", blocks)


class _WaitingOn(BaseModel):
    """Whom or what a blocker waits on, as `blocker.raised` carries it (`{kind, user}`,
    `{kind, name}` or `{kind, item_key}`); read leniently."""

    kind: str
    user: str | None = None
    name: str | None = None
    item_key: str | None = None


def _waiting_on(payload: Any, links: _Links) -> tuple[str, str] | None:
    """Whom or what it waits on, for a field and for the plain text; None if unreadable."""
    waiting = _parse(_WaitingOn, payload) if isinstance(payload, Mapping) else None
    if waiting is None:
        return None
    if waiting.kind == "person" and waiting.user:
        who = _line(waiting.user)
        return f"*{who}*", who
    if waiting.kind in ("team", "external") and waiting.name:
        name = _line(waiting.name)
        return f"*{name}* ({waiting.kind})", f"{name} ({waiting.kind})"
    if waiting.kind == "item" and waiting.item_key:
        key = _line(waiting.item_key)
        return f"*{links.item(waiting.item_key, key)}*", key
    return None


def _blocker_escalated(event: _Event, links: _Links) -> Message | None:
    """An open blocker past the project's threshold, escalated by the worker (no actor)."""
    # What it says besides the blocker, its item and its age is read leniently below (events
    # written before 2026-11-27 lack it): a part that can't be read is left out, not a reason
    # to send nothing.
    extras = ("reason", "waiting_on", "raised_by")
    data = _parse(BlockerEscalated, {k: v for k, v in event.data.items() if k not in extras})
    if data is None:
        return None
    key = _line(data.item_key)
    age = _hours(data.age_working_hours)
    fields: list[str] = []
    waiting = _waiting_on(event.data.get("waiting_on"), links)
    if waiting is not None:
        fields.append(f"*Waiting on*\n{waiting[0]}")
    raised_by = event.data.get("raised_by")
    if isinstance(raised_by, str) and raised_by.strip():
        fields.append(f"*Raised by*\n*{_line(raised_by)}*")
    blocks = [
        _header(":rotating_light: Blocker escalated"),
        _section(
            f"*{links.item(data.item_key, key)}*{_in_project(event)} has been blocked for "
            f"*{age}*, past the project's threshold of {_number(data.threshold_hours)}.",
            fields,
        ),
    ]
    reason = event.data.get("reason")
    if isinstance(reason, str) and reason.strip():
        blocks.append(_section(f"*Reason*\n{escape(_cut(reason.strip(), REASON_LIMIT))}"))
    text = f"Blocker escalated: {key}{_in_project(event, bold=False)} has been blocked for {age}"
    if waiting is not None:
        text += f", waiting on {waiting[1]}"
    return _message(f"{text}.", blocks)


# Deployments and incidents ---------------------------------------------------------------------

# A deployment's message links at most this many of the items it shipped.
MAX_ITEM_LINKS = 10
SHORT_SHA = 7
FAILURE_REASONS = {
    "failure": "it finished in failure",
    "rolled_back": "it was rolled back",
    "incident": "an incident was linked to it",
    "hotfix": "a hotfix was deployed to fix it",
}


def _deployment_name(data: DeploymentEvent) -> str:
    """What people call a deployment: its version, else its commit, else its ref (escaped)."""
    if data.version and data.version.strip():
        return _line(data.version)
    if data.sha:
        return _line(data.sha[:SHORT_SHA])
    if data.ref and data.ref.strip():
        return _line(data.ref)
    return "Deployment"


def _deployment_fields(data: DeploymentEvent) -> list[str]:
    fields = [f"*Environment*\n{_line(data.environment)} ({_line(data.environment_type)})"]
    if data.sha:
        commit = _line(data.sha[:SHORT_SHA])
        fields.append(f"*Commit*\n{commit}" + (f" on {_line(data.ref)}" if data.ref else ""))
    if data.triggered_by and data.triggered_by.strip():
        fields.append(f"*Triggered by*\n{_line(data.triggered_by)}")
    return fields


def _deployment_marks(data: DeploymentEvent) -> list[str]:
    marks = []
    if data.is_hotfix:
        marks.append(":adhesive_bandage: Hotfix")
    if data.is_rollback:
        marks.append(":leftwards_arrow_with_hook: Rollback")
    return marks


def _item_links(keys: list[str], links: _Links) -> str:
    shown = ", ".join(links.item(key, _line(key)) for key in keys[:MAX_ITEM_LINKS])
    if len(keys) > MAX_ITEM_LINKS:
        shown += f" and {len(keys) - MAX_ITEM_LINKS} more"
    return shown


def _deployment_succeeded(event: _Event, links: _Links) -> Message | None:
    data = _parse(DeploymentSucceeded, event.data)
    if data is None:
        return None
    name = _deployment_name(data)
    environment = _line(data.environment)
    shipped = f"{_count(data.commit_count, 'commit')} · {_count(len(data.item_keys), 'item')}"
    fields = [*_deployment_fields(data), f"*Shipped*\n{shipped}"]
    blocks = [
        _header(":package: Deployment succeeded"),
        _section(
            f"*{links.deployment(data.id, name)}* deployed to *{environment}*{_in_project(event)}.",
            fields,
        ),
    ]
    if data.item_keys:
        blocks.append(_section(f"*Items*\n{_item_links(data.item_keys, links)}"))
    if context := _deployment_marks(data) + _by("Reported", event):
        blocks.append(_context(*context))
    text = f"{name} deployed to {environment}{_in_project(event, bold=False)}: {shipped}."
    return _message(text, blocks)


def _deployment_failed(event: _Event, links: _Links) -> Message | None:
    data = _parse(DeploymentFailed, event.data)
    if data is None:
        return None
    name = _deployment_name(data)
    environment = _line(data.environment)
    why = FAILURE_REASONS.get(data.reason, _line(data.reason))
    fields = _deployment_fields(data)
    if data.item_keys:
        fields.append(f"*Items*\n{_item_links(data.item_keys, links)}")
    blocks = [
        _header(":x: Deployment failed"),
        _section(
            f"*{links.deployment(data.id, name)}* to *{environment}*{_in_project(event)} "
            f"failed: {why}.",
            fields,
        ),
    ]
    if context := _deployment_marks(data) + _by("Reported", event):
        blocks.append(_context(*context))
    text = f"Deployment {name} to {environment}{_in_project(event, bold=False)} failed: {why}."
    return _message(text, blocks)


def _incident_fields(data: IncidentEvent, links: _Links, *, fixed: bool) -> list[str]:
    fields = [
        f"*Severity*\n{_line(data.severity.upper())}",
        f"*Environment*\n{_line(data.environment)}",
    ]
    if data.caused_by_deployment_id:
        fields.append(
            f"*Caused by*\n{links.deployment(data.caused_by_deployment_id, 'deployment')}"
        )
    if fixed and data.fixed_by_deployment_id:
        fields.append(f"*Fixed by*\n{links.deployment(data.fixed_by_deployment_id, 'deployment')}")
    return fields


def _moment(value: Any) -> datetime | None:
    """An RFC 3339 time of the payload, in UTC; None if it isn't one."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment.astimezone(UTC) if moment.tzinfo is not None else None


def _duration(seconds: float) -> str:
    """`45 min`, `3 h 5 min`, `2 d 4 h`: how long an incident stayed open."""
    minutes = max(0, int(seconds // 60))
    days, hours, minutes = minutes // 1440, minutes // 60 % 24, minutes % 60
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min"


def _incident_opened(event: _Event, links: _Links) -> Message | None:
    data = _parse(IncidentOpened, event.data)
    if data is None:
        return None
    name = f"INC-{data.number}"
    title = _line(data.title)
    blocks = [
        _header(":fire: Incident opened"),
        _section(
            f"*{links.incident(data.id, name)}* {title}{_in_project(event)}.",
            _incident_fields(data, links, fixed=False),
        ),
    ]
    if by := _by("Opened", event):
        blocks.append(_context(*by))
    severity, environment = _line(data.severity), _line(data.environment)
    text = (
        f"Incident {name} opened{_in_project(event, bold=False)}: {title} "
        f"({severity}, {environment})."
    )
    return _message(text, blocks)


def _incident_resolved(event: _Event, links: _Links) -> Message | None:
    data = _parse(IncidentResolved, event.data)
    if data is None:
        return None
    name = f"INC-{data.number}"
    title = _line(data.title)
    fields = _incident_fields(data, links, fixed=True)
    resolved = _moment(data.resolved_at)
    # Events written before the payload carried `opened_at` show no time open.
    opened = _moment(data.opened_at)
    if resolved is not None and opened is not None and opened <= resolved:
        fields.append(f"*Open for*\n{_duration((resolved - opened).total_seconds())}")
    blocks = [
        _header(":white_check_mark: Incident resolved"),
        _section(
            f"*{links.incident(data.id, name)}* {title}{_in_project(event)} is resolved.", fields
        ),
    ]
    context = _by("Resolved", event)
    if resolved is not None:
        context.append(f"Resolved at {resolved:%Y-%m-%d %H:%M} UTC")
    if context:
        blocks.append(_context(*context))
    text = f"Incident {name} resolved{_in_project(event, bold=False)}: {title}."
    return _message(text, blocks)


# The event types Slack is sent, and how each reads.
FORMATTERS: Mapping[str, Formatter] = {
    "sprint.started": _sprint_started,
    "sprint.completed": _sprint_completed,
    "item.created": _item_created,
    "item.updated": _item_updated,
    "standup.summary_ready": _standup_summary,
    "blocker.escalated": _blocker_escalated,
    "deployment.succeeded": _deployment_succeeded,
    "deployment.failed": _deployment_failed,
    "incident.opened": _incident_opened,
    "incident.resolved": _incident_resolved,
    TEST_PING: _test_ping,
}
