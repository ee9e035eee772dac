"""The event catalogue: every event type Takt writes, with the JSON Schema of its payload.

Each domain declares its events in its own `events.py` (subclasses of `EventData` register
themselves, as errors do); importing those modules here is what puts them in the catalogue, so
a domain that adds an events module adds it to `DOMAIN_EVENT_MODULES`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from takt.blockers import events as blocker_events
from takt.core.events import EVENT_TYPES, EventData
from takt.delivery import events as delivery_events
from takt.deployments import events as deployment_events
from takt.estimation import events as estimation_events
from takt.incidents import events as incident_events
from takt.items import events as item_events
from takt.projects import events as project_events
from takt.readiness import events as readiness_events
from takt.retros import events as retro_events
from takt.risks import events as risk_events
from takt.sprints import events as sprint_events
from takt.standups import events as standup_events
from takt.webhooks import events as webhook_events
from takt.workflow import events as workflow_events

DOMAIN_EVENT_MODULES = (
    project_events,
    workflow_events,
    item_events,
    sprint_events,
    risk_events,
    blocker_events,
    standup_events,
    delivery_events,
    deployment_events,
    incident_events,
    readiness_events,
    retro_events,
    estimation_events,
    webhook_events,
)


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


LIVE_STREAM = [
    "## The live stream",
    "",
    "With `Accept: text/event-stream` the log's address streams the project's events as they",
    "commit, as server-sent events (what a browser's `EventSource` reads):",
    "",
    "```sh",
    "curl -N -H 'Accept: text/event-stream' -H \"Authorization: Bearer $TOKEN\" \\",
    "  http://127.0.0.1:8000/api/v1/projects/DEMO/events",
    "```",
    "",
    "```text",
    "id: eyJzIjoiZXZlbnQtbG9nIiwiayI6WzAsNDJdfQ.kX3rWcN0bq2tEw1S9c5YfA",
    "event: item.updated",
    'data: {"id":"…","type":"item.updated","occurred_at":"2026-11-27T09:00:00Z",…}',
    "",
    ": keep-alive",
    "```",
    "",
    "Each event is three fields and a blank line:",
    "",
    "- `id`: the event's cursor, the same the JSON log hands out as `next_cursor`: a stream's",
    "  `id` works as the log's `after`, and a `next_cursor` as the stream's.",
    "- `event`: the event's type.",
    "- `data`: the envelope above, on one line.",
    "",
    "Lines that start with `:` are comments, which clients ignore: `: keep-alive` every 15",
    "seconds of quiet (`TAKT_SSE_HEARTBEAT_SECONDS`), so proxies keep the connection open and",
    "the client knows it is alive, and `: closed: <why>` when the server ends the stream.",
    "",
    "**Resuming.** A stream starts with the events committed once it is open. To miss nothing",
    "across a reconnection, send the `id` of the last event received as the `Last-Event-ID`",
    "header (an `EventSource` does it by itself) or as `?after=`: the stream first sends",
    "everything after it from the log, then goes on live, with nothing lost and nothing sent",
    "twice. `Last-Event-ID` wins over `after`.",
    "",
    "**Filters.** `?types=item.created,item.updated` keeps only those types, as in the log.",
    "",
    "**When the server ends a stream** (reconnect with `Last-Event-ID`):",
    "",
    "- the client reads too slowly: each stream holds at most `TAKT_SSE_QUEUE_SIZE` (1,000)",
    "  events not yet sent; one that falls further behind is dropped rather than buffered",
    "  without bound, and catches up from the log when it reconnects;",
    "- the server stops (a restart, a deploy): streams end at once, and the client reconnects",
    "  to this or another process;",
    "- the caller lost access: a revoked or expired token, a disabled account, or on a",
    "  project's stream, the project no longer visible (a member removed, a project deleted).",
    "  Access is checked again every `TAKT_PRINCIPAL_CACHE_SECONDS` (at least every 5 s);",
    "  reconnecting then answers 401 or 404. An access token from a login expires (after 15",
    "  minutes by default), and its stream with it: refresh it and reconnect with",
    "  `Last-Event-ID`, or stream with a personal access token.",
    "",
    "**Every project at once.** `GET /api/v1/events/stream` (for front ends) is one stream of",
    "the events of every project the caller can see, in commit order, with the same fields,",
    "`types`, `after` and `Last-Event-ID` (its ids are cursors of the same order); each",
    "`data` names its `project_key`. A project joined or created while it is open shows from",
    "its `member.added` or `project.created` event on, and one left or deleted stops after its",
    "`member.removed` or `project.deleted`; other changes of what the caller sees show within",
    "the re-check time. It answers only `text/event-stream` (406 otherwise), and a token",
    "limited to projects sees only those.",
    "",
    "**How many at once.** One user holds at most `TAKT_SSE_MAX_STREAMS_PER_USER` (10) streams",
    "open at once: both kinds together, over all of their tokens (each open stream holds a",
    "queue, a connection and its access checks on the server). One more is refused before it",
    "starts, with `429` `too-many-streams` (`application/problem+json`, `Retry-After: 5`): close",
    "a stream you no longer read, or watch every project through one `/events/stream`. A",
    "stream's slot is free again the moment it ends, however it ends (the client leaves, a drop,",
    "a lost access, the server stopping). Each API process counts its own streams: behind a load",
    "balancer over several processes a user may hold that many on each. (The rate limits' shared",
    "counters, in Redis or the database, count requests in windows of time; counting open",
    "connections across processes would also need the slots of a process that dies handed back,",
    "which they can't.)",
    "",
    "**Behind a reverse proxy**, turn response buffering off for these addresses (the server",
    "sends `X-Accel-Buffering: no`, which nginx follows) and allow reads idle longer than the",
    "heartbeat. With several API processes on PostgreSQL, a commit in any of them reaches the",
    "streams of all of them (LISTEN/NOTIFY), so a client may connect to any.",
    "",
]


def render_markdown() -> str:
    """docs/events.md: generated from the catalogue (`make docs`), checked by a test."""
    out = [
        "# Events",
        "",
        "<!-- Generated from the event catalogue by `make docs`; edit the models in each",
        "     domain's events.py, not this file. -->",
        "",
        "Every change in Takt writes an event in the same transaction as the change. The event",
        "log (`GET /api/v1/projects/{project_key}/events`), the live stream (below) and webhooks",
        "hand them out in this envelope:",
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
        *LIVE_STREAM,
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
