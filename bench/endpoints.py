"""The measured endpoints E0-E8, resolved against a running server's generated dataset."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

import httpx
import orjson

from bench import dataset
from bench.load import Request

READ_PROJECT = "P001"  # E2-E5 read it; 2,000 items in M, 200 in S
CREATE_PROJECT = "P002"  # E6 creates items here
PATCH_PROJECT = "P003"  # E7 toggles statuses of items here
DEEP_PAGE = 30  # E2 deep: the 30th page of 50 (or the last page of a smaller project)
PATCH_STATUSES = ("In Progress", "In Review")
READ_KEYS = 200  # E1 cycles through this many items across the regular projects


@dataclass
class Endpoint:
    id: str
    title: str
    requests: list[Request]
    write: bool = False
    notes: dict[str, object] = field(default_factory=dict)

    @property
    def sample(self) -> Request:
        return self.requests[0]


def _items(project: str, **params: object) -> str:
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return f"/api/v1/projects/{project}/items" + (f"?{query}" if query else "")


async def _get(client: httpx.AsyncClient, path: str) -> dict[str, object]:
    response = await client.get(path)
    if response.status_code != 200:
        raise RuntimeError(f"GET {path}: {response.status_code} {response.text[:300]}")
    body: dict[str, object] = response.json()
    return body


async def _deep_cursor(client: httpx.AsyncClient) -> tuple[str | None, int]:
    """The cursor of page DEEP_PAGE (or of the last page), found by walking the pages."""
    cursor: str | None = None
    page = 1
    while page < DEEP_PAGE:
        body = await _get(client, _items(READ_PROJECT, limit=50, cursor=cursor))
        following = body.get("next_cursor")
        if not isinstance(following, str):
            break
        cursor, page = following, page + 1
    return cursor, page


async def _a_member(client: httpx.AsyncClient) -> str:
    body = await _get(client, f"/api/v1/projects/{READ_PROJECT}/members?limit=50")
    rows = body["data"]
    assert isinstance(rows, list)
    for row in rows:
        if row["role"] == "member":
            return str(row["user"]["username"])
    raise RuntimeError(f"{READ_PROJECT} has no plain member")


async def _active_sprint(client: httpx.AsyncClient) -> tuple[str, int]:
    body = await _get(client, f"/api/v1/projects/{dataset.BIG}/sprints?state=active")
    rows = body["data"]
    if not isinstance(rows, list) or not rows:
        raise RuntimeError(f"{dataset.BIG} has no active sprint")
    sprint_id = str(rows[0]["id"])
    burndown = await _get(client, f"/api/v1/sprints/{sprint_id}/burndown")
    days = burndown["days"]
    assert isinstance(days, list)
    return sprint_id, int(days[-1]["scope_items"]) if days else 0


def _read_keys(size: dataset.Size) -> list[str]:
    projects = dataset.project_keys(size)[:-1]
    return [
        f"{projects[i % len(projects)]}-{1 + (i * 7919) % size.items_per_project}"
        for i in range(READ_KEYS)
    ]


def _patches(size: dataset.Size, lanes: int, per_lane: int) -> list[Request]:
    """Each lane owns `per_lane` items and moves each one back and forth between two statuses,
    one right after the other, so every request but perhaps an item's first is a real change
    (the statement count samples the first requests, whatever state earlier runs left)."""
    count = min(lanes * per_lane, size.items_per_project)
    per_lane = max(1, count // lanes)
    bodies = [orjson.dumps({"status": status}).decode() for status in PATCH_STATUSES]
    requests = []
    for lane in range(lanes):
        keys = [f"{PATCH_PROJECT}-{1 + lane * per_lane + i}" for i in range(per_lane)]
        requests += [
            Request("PATCH", f"/api/v1/items/{k}", body, lane) for k in keys for body in bodies
        ]
    return requests


async def plan(
    client: httpx.AsyncClient, size: dataset.Size, *, lanes: int, per_lane: int
) -> list[Endpoint]:
    """Every endpoint with the requests to cycle through; checks each answers 2xx once."""
    deep_cursor, deep_page = await _deep_cursor(client)
    member = await _a_member(client)
    sprint_id, sprint_items = await _active_sprint(client)
    filtered = f"status:Backlog assignee:{member} label:api"
    create = orjson.dumps({"title": "Benchmark item", "type": "task", "estimate": 3}).decode()
    endpoints = [
        Endpoint("E0", "GET /bench/ping", [Request("GET", "/bench/ping")]),
        Endpoint(
            "E1",
            "GET /api/v1/items/{key}",
            [Request("GET", f"/api/v1/items/{k}") for k in _read_keys(size)],
        ),
        Endpoint("E2", "list 50, first page", [Request("GET", _items(READ_PROJECT, limit=50))]),
        Endpoint(
            "E2_deep",
            f"list 50, page {deep_page}",
            [Request("GET", _items(READ_PROJECT, limit=50, cursor=deep_cursor))],
            notes={"page": deep_page},
        ),
        Endpoint(
            "E3",
            "filtered list (status + assignee + label)",
            [Request("GET", _items(READ_PROJECT, limit=50, q=filtered))],
            notes={"q": filtered},
        ),
        Endpoint("E4", "board", [Request("GET", f"/api/v1/projects/{READ_PROJECT}/board")]),
        Endpoint(
            "E5",
            "full-text search",
            [Request("GET", _items(READ_PROJECT, limit=50, q=f'"{dataset.SEARCH_PHRASE}"'))],
            notes={"q": f'"{dataset.SEARCH_PHRASE}"'},
        ),
        Endpoint(
            "E6",
            "POST create item",
            [Request("POST", f"/api/v1/projects/{CREATE_PROJECT}/items", create)],
            write=True,
        ),
        Endpoint(
            "E7",
            "PATCH status (two statuses, alternating)",
            _patches(size, lanes, per_lane),
            write=True,
        ),
        Endpoint(
            "E8",
            f"burndown of a {sprint_items:,}-item sprint",
            [Request("GET", f"/api/v1/sprints/{sprint_id}/burndown")],
            notes={"sprint_items": sprint_items},
        ),
    ]
    # First one client at a time: the cost of one burndown without queueing behind 15 others.
    endpoints.insert(
        len(endpoints) - 1,
        Endpoint(
            "E8_serial",
            "burndown, one connection",
            endpoints[-1].requests,
            notes={"sprint_items": sprint_items, "concurrency": 1},
        ),
    )
    for endpoint in endpoints:
        if not endpoint.write:
            await _get(client, endpoint.sample.path)
    return endpoints
