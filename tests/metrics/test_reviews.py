"""Review metrics worked by hand over pull requests learned from real payloads (METRICS.md,
Code review): time to first review and to merge (P50, P85, nearest rank), review rounds,
merged without approval, sizes, per repository and overall."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI
from httpx import AsyncClient
from hypothesis import given
from hypothesis import strategies as st

from takt.config import Settings
from takt.core.db import Database
from takt.metrics.service import percentile, size_of
from tests.delivery.support import (
    github_pr,
    github_review,
    inbox,
    link_repository,
    process_inbox,
    send_github,
)
from tests.support import team

DAY = datetime(2026, 11, 20, tzinfo=UTC)


def h(hours: float) -> datetime:
    """Hours after 2026-11-20 00:00 UTC."""
    return DAY + timedelta(hours=hours)


def in_repo(payload: dict[str, Any], full_name: str) -> dict[str, Any]:
    payload["repository"]["full_name"] = full_name
    return payload


def sized(payload: dict[str, Any], additions: int, deletions: int) -> dict[str, Any]:
    payload["pull_request"].update(additions=additions, deletions=deletions)
    return payload


def scenario() -> list[tuple[str, dict[str, Any]]]:
    a, b = "Codertocat/Hello-World", "Codertocat/Other"
    return [
        # PR 1 (a): ready 09:00; changes requested 11:00; asked again 14:00; approved 17:00;
        # merged 19:00. First review 2 h, merge 10 h, 1 round, approved, 2 lines (xs).
        ("pull_request", in_repo(github_pr("opened", number=1, opened=h(9)), a)),
        (
            "pull_request_review",
            in_repo(
                github_review(
                    "changes_requested",
                    review_id=11,
                    reviewer="octocat",
                    at=h(11),
                    number=1,
                    opened=h(9),
                ),
                a,
            ),
        ),
        (
            "pull_request",
            in_repo(
                github_pr(
                    "review_requested", number=1, opened=h(9), updated=h(14), requested="octocat"
                ),
                a,
            ),
        ),
        (
            "pull_request_review",
            in_repo(
                github_review(
                    "approved", review_id=12, reviewer="octocat", at=h(17), number=1, opened=h(9)
                ),
                a,
            ),
        ),
        (
            "pull_request",
            in_repo(
                github_pr(
                    "closed", number=1, opened=h(9), updated=h(19), merged_at=h(19), reviewers=()
                ),
                a,
            ),
        ),
        # PR 2 (a): ready 12:00; a comment 13:00; merged 16:00 with no approval; 350 lines (m).
        ("pull_request", in_repo(github_pr("opened", number=2, opened=h(12)), a)),
        (
            "pull_request_review",
            in_repo(
                github_review(
                    "commented", review_id=21, reviewer="octocat", at=h(13), number=2, opened=h(12)
                ),
                a,
            ),
        ),
        (
            "pull_request",
            in_repo(
                sized(
                    github_pr(
                        "closed",
                        number=2,
                        opened=h(12),
                        updated=h(16),
                        merged_at=h(16),
                        reviewers=(),
                    ),
                    300,
                    50,
                ),
                a,
            ),
        ),
        # PR 3 (b): a draft from the day before, ready 10:00; approved 16:00; merged the next
        # day 10:00. First review 6 h, merge 24 h, 2,000 lines (xl).
        ("pull_request", in_repo(github_pr("opened", number=3, opened=h(-14), draft=True), b)),
        (
            "pull_request",
            in_repo(github_pr("ready_for_review", number=3, opened=h(-14), updated=h(10)), b),
        ),
        (
            "pull_request_review",
            in_repo(
                github_review(
                    "approved", review_id=31, reviewer="octocat", at=h(16), number=3, opened=h(-14)
                ),
                b,
            ),
        ),
        (
            "pull_request",
            in_repo(
                sized(
                    github_pr(
                        "closed",
                        number=3,
                        opened=h(-14),
                        updated=h(34),
                        merged_at=h(34),
                        reviewers=(),
                    ),
                    2000,
                    0,
                ),
                b,
            ),
        ),
        # PR 4 (b): opened in the period, first reviewed after it, not merged: not counted.
        ("pull_request", in_repo(github_pr("opened", number=4, opened=h(32)), b)),
        (
            "pull_request_review",
            in_repo(
                github_review(
                    "approved", review_id=41, reviewer="octocat", at=h(57), number=4, opened=h(32)
                ),
                b,
            ),
        ),
        # PR 5 (a): reviewed before the period, merged after it: not counted.
        ("pull_request", in_repo(github_pr("opened", number=5, opened=h(-240)), a)),
        (
            "pull_request_review",
            in_repo(
                github_review(
                    "approved",
                    review_id=51,
                    reviewer="octocat",
                    at=h(-200),
                    number=5,
                    opened=h(-240),
                ),
                a,
            ),
        ),
        (
            "pull_request",
            in_repo(
                github_pr(
                    "closed", number=5, opened=h(-240), updated=h(60), merged_at=h(60), reviewers=()
                ),
                a,
            ),
        ),
    ]


async def test_review_metrics_worked_by_hand(
    app: FastAPI, db: Database, client: AsyncClient, settings: Settings
) -> None:
    people = await team(app, db)
    a = await link_repository(client, people["ada"], "github", "Codertocat/Hello-World")
    b = await link_repository(client, people["ada"], "github", "Codertocat/Other")
    repositories = {"Codertocat/Hello-World": a, "Codertocat/Other": b}
    for event, payload in scenario():
        target = repositories[payload["repository"]["full_name"]]
        assert (await send_github(client, target, event, payload)).status_code == 202
        await process_inbox(db, settings)
    assert {d.state for d in await inbox(db)} == {"processed"}
    response = await client.get(
        "/api/v1/projects/API/metrics/reviews",
        params={"from": "2026-11-20", "to": "2026-11-21"},
        headers=people["vic"].headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["from"], body["to"], body["time_zone"]) == ("2026-11-20", "2026-11-21", "UTC")
    assert body["overall"] == {
        # First reviews [2, 1, 6] h: P50 the 2nd of 3, P85 the 3rd.
        "time_to_first_review": {"count": 3, "p50": 2.0, "p85": 6.0},
        # Merges [10, 4, 24] h.
        "time_to_merge": {"count": 3, "p50": 10.0, "p85": 24.0},
        "merged": 3,
        "review_rounds": {"total": 1, "mean": 0.33, "max": 1},
        "merged_without_approval": {"count": 1, "share": 0.3333},
        "size": {"xs": 1, "s": 0, "m": 1, "l": 0, "xl": 1, "unknown": 0},
    }
    by_name = {r["repository"]: r for r in body["repositories"]}
    first = by_name["Codertocat/Hello-World"]
    assert first["time_to_first_review"] == {"count": 2, "p50": 1.0, "p85": 2.0}
    assert first["time_to_merge"] == {"count": 2, "p50": 4.0, "p85": 10.0}
    assert first["review_rounds"] == {"total": 1, "mean": 0.5, "max": 1}
    assert first["merged_without_approval"] == {"count": 1, "share": 0.5}
    second = by_name["Codertocat/Other"]
    assert second["time_to_first_review"] == {"count": 1, "p50": 6.0, "p85": 6.0}
    assert second["time_to_merge"] == {"count": 1, "p50": 24.0, "p85": 24.0}
    assert second["merged_without_approval"] == {"count": 0, "share": 0.0}
    assert second["size"]["xl"] == 1


async def test_an_empty_period_and_bad_ranges(
    app: FastAPI, db: Database, client: AsyncClient
) -> None:
    people = await team(app, db)
    await link_repository(client, people["ada"])
    empty = await client.get("/api/v1/projects/API/metrics/reviews", headers=people["bob"].headers)
    assert empty.status_code == 200
    overall = empty.json()["overall"]
    assert overall["time_to_merge"] == {"count": 0, "p50": None, "p85": None}
    assert overall["merged_without_approval"] == {"count": 0, "share": None}
    assert len(empty.json()["repositories"]) == 1
    for params in (
        {"from": "2026-11-22", "to": "2026-11-21"},
        {"from": "2020-01-01", "to": "2026-11-21"},
        {"from": "yesterday"},
    ):
        bad = await client.get(
            "/api/v1/projects/API/metrics/reviews", params=params, headers=people["bob"].headers
        )
        assert bad.status_code == 422, params
    hidden = await client.get("/api/v1/projects/API/metrics/reviews", headers=people["sam"].headers)
    assert hidden.status_code == 404


@given(st.lists(st.floats(0, 1e6, allow_nan=False), min_size=1, max_size=200), st.integers(1, 100))
def test_a_nearest_rank_percentile_is_a_value_with_enough_below_it(
    values: list[float], percent: int
) -> None:
    ordered = sorted(values)
    found = percentile(ordered, percent)
    assert found in ordered
    at_or_below = sum(1 for v in ordered if v <= found)
    assert at_or_below / len(ordered) >= percent / 100
    below = sum(1 for v in ordered if v < found)
    assert below / len(ordered) < percent / 100


def test_sizes_by_lines_changed() -> None:
    assert [
        size_of(a, d)
        for a, d in ((0, 0), (5, 5), (6, 5), (60, 40), (400, 0), (401, 0), (500, 500), (1000, 1))
    ] == ["xs", "xs", "s", "s", "m", "l", "l", "xl"]
    assert size_of(None, None) == "unknown"
    assert size_of(3, None) == "xs"
