"""The event catalogue: every event type Takt writes, with the JSON Schema of its payload.

Each domain declares its events in its own `events.py` (subclasses of `EventData` register
themselves, as errors do); importing those modules here is what puts them in the catalogue, so
a domain that adds an events module adds it to `DOMAIN_EVENT_MODULES`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from takt.core.events import EVENT_TYPES, EventData
from takt.items import events as item_events
from takt.projects import events as project_events
from takt.sprints import events as sprint_events
from takt.workflow import events as workflow_events

DOMAIN_EVENT_MODULES = (project_events, workflow_events, item_events, sprint_events)


@dataclass(frozen=True)
class EventType:
    type: str
    description: str
    data_schema: dict[str, Any]
    changes_schema: dict[str, Any] | None


def _describe(declared: type[EventData]) -> EventType:
    doc = " ".join((declared.__doc__ or declared.event_type).split())
    changes = declared.changes_model
    return EventType(
        type=declared.event_type,
        description=doc,
        data_schema=declared.model_json_schema(by_alias=True),
        changes_schema=changes.model_json_schema() if changes else None,
    )


def event_types() -> list[EventType]:
    """Every event type Takt declares, by name (types a test declares for itself are left out)."""
    return [
        _describe(declared)
        for name, declared in sorted(EVENT_TYPES.items())
        if declared.__module__.startswith("takt.")
    ]


def _fields(schema: dict[str, Any]) -> list[str]:
    required = set(schema.get("required", []))
    lines = []
    for name, spec in schema.get("properties", {}).items():
        kind = _kind(spec)
        note = spec.get("description", "")
        optional = "" if name in required else " (optional)"
        lines.append(f"| `{name}` | {kind}{optional} | {note} |")
    return lines


def _kind(spec: dict[str, Any]) -> str:
    if "anyOf" in spec:
        return " or ".join(_kind(option) for option in spec["anyOf"])
    if spec.get("type") == "array":
        if "prefixItems" in spec:
            return "[" + ", ".join(_kind(item) for item in spec["prefixItems"]) + "]"
        return f"list of {_kind(spec.get('items', {}))}"
    if "enum" in spec:
        return " \\| ".join(f"`{value}`" for value in spec["enum"])
    if "const" in spec:
        return f"`{spec['const']}`"
    return str(spec.get("type", "any"))


def render_markdown() -> str:
    """docs/events.md: generated from the catalogue (`make docs`), checked by a test."""
    out = [
        "# Events",
        "",
        "<!-- Generated from the event catalogue by `make docs`; edit the models in each",
        "     domain's events.py, not this file. -->",
        "",
        "Every change in Takt writes an event in the same transaction as the change. The event",
        "log (`GET /api/v1/projects/{project_key}/events`), and soon webhooks and the live",
        "stream, hand them out in this envelope:",
        "",
        "```json",
        '{"id": "…", "type": "item.updated", "occurred_at": "2026-11-27T09:00:00Z",',
        ' "project_key": "DEMO", "actor": {"id": "…", "username": "maya"},',
        ' "data": {"key": "DEMO-7"}, "changes": {"priority": ["low", "high"]}}',
        "```",
        "",
        "`GET /api/v1/event-types` serves this catalogue with the JSON Schema of each type's",
        "`data` and `changes`.",
        "",
        "## How payloads evolve",
        "",
        "A payload only grows: a new field comes with a default, so events written before it",
        "still read, and consumers must ignore fields they don't know. A field is never renamed,",
        "retyped or removed; such a change is a new event type. `changes` lists only the fields",
        "that changed, each as `[old, new]`.",
        "",
        "## The cursor",
        "",
        "`next_cursor` is a position in commit order: a poller that always passes the last",
        "`next_cursor` back as `after` sees every committed event exactly once, in order, even",
        "when transactions commit in another order than they started (on PostgreSQL the log",
        "hands out only events of transactions older than the oldest one still writing, so a",
        "just-committed event can take as long as the longest running write to appear).",
        "",
        "## Event types",
    ]
    for event in event_types():
        out += ["", f"### `{event.type}`", "", event.description, ""]
        out += ["| data field | type | meaning |", "|---|---|---|", *_fields(event.data_schema)]
        if event.changes_schema:
            out += ["", "| may change | [old, new] | meaning |", "|---|---|---|"]
            out += _fields(event.changes_schema)
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    print(render_markdown(), end="")
