"""Slack messages for webhooks of kind `slack`: an event envelope as Block Kit.

The delivery engine posts what `slack_message` returns, as JSON, to the endpoint's incoming-webhook
URL. Only some event types make a message (the `FORMATTERS` table); for the others there is
nothing to send.

Everything a user typed (titles, sprint names and goals, usernames) reaches Slack escaped, so it
can't add links or mentions (`<!channel>`, `<@U123>`), and only in `mrkdwn` text: headers hold our
own words. Block texts set `verbatim`, so Slack doesn't make links or mentions of bare URLs,
`#channel` or `@channel` in them either. Texts are cut below Slack's limits, before escaping so
no cut falls inside an entity.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote

from pydantic import BaseModel, ValidationError

from takt.items.events import ItemChanges, ItemCreated, ItemUpdated
from takt.sprints.events import SprintCompleted, SprintStarted

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
ELLIPSIS = "…"
# A webhook's test ping (`webhooks.service.TEST_EVENT_TYPE`): not an event of the log, but the
# delivery engine asks for its message the same way, with the ping's body as the envelope.
TEST_PING = "webhook.test"


def slack_message(envelope: Mapping[str, Any], *, public_url: str) -> Message | None:
    """The Slack message (`{"text", "blocks"}`) for one event envelope (API.md, Events), or None
    when Slack isn't sent this event.

    `public_url` is the server's address as users reach it: messages link back to
    `{public_url}/items/{key}` and `{public_url}/sprints/{id}`. Events brought in by an import
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


def _points(points: float) -> str:
    shown = f"{points:.2f}".rstrip("0").rstrip(".")
    return f"{shown} point" if shown == "1" else f"{shown} points"


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


# The event types Slack is sent, and how each reads. The coming modules add one entry each:
# stand-up summaries, escalated blockers, failed deployments.
FORMATTERS: Mapping[str, Formatter] = {
    "sprint.started": _sprint_started,
    "sprint.completed": _sprint_completed,
    "item.created": _item_created,
    "item.updated": _item_updated,
    TEST_PING: _test_ping,
}
