"""The benchmark dataset's sizes, names and users; `bench.project` builds each project's rows.

Everything is pure Python and seeded: the same seed and anchor date give the same rows, ids
included, which `bench.generate` writes to SQLite or PostgreSQL."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from takt.workflow.models import DEFAULT_STATUSES

SEED = 20261124
PASSWORD = "bench-password-2026"
LOGIN = "bench"  # admin member of every project; the runner logs in as this user
BIG = "BIG"  # the project whose active sprint holds `big_sprint_items` items (endpoint E8)
SPRINTS = 20  # per project: 19 completed, the last one active
LABELS = (
    ("api", "#1f77b4"),
    ("web", "#ff7f0e"),
    ("mobile", "#2ca02c"),
    ("infra", "#d62728"),
    ("security", "#9467bd"),
    ("performance", "#8c564b"),
    ("ux", "#e377c2"),
    ("docs", "#7f7f7f"),
    ("billing", "#bcbd22"),
    ("search", "#17becf"),
    ("auth", "#393b79"),
    ("data", "#637939"),
)
VERBS = ("Add", "Fix", "Refactor", "Speed up", "Document", "Remove", "Migrate", "Test")
OBJECTS = (
    "payment webhook",
    "checkout flow",
    "login form",
    "search index",
    "invoice export",
    "rate limiter",
    "user profile",
    "audit trail",
    "email digest",
    "billing page",
    "session store",
    "report builder",
    "image upload",
    "api gateway",
    "feature flag",
    "retry queue",
)
CONTEXTS = (
    "for mobile",
    "on Safari",
    "for admins",
    "in staging",
    "under load",
    "for new users",
    "",
)
SENTENCES = (
    "Customers report that the page hangs for several seconds before anything shows up.",
    "The current implementation reads every row and filters in Python, which does not scale.",
    "Agree on the acceptance criteria with product before starting.",
    "Add metrics so we can tell whether the change helped in production.",
    "The fix must be backwards compatible with clients released last quarter.",
    "Steps to reproduce: sign in, open the settings, change the time zone, reload.",
    "Write a migration and test both upgrade and downgrade on PostgreSQL and SQLite.",
    "Pair with the on-call engineer to check the alert thresholds afterwards.",
    "Out of scope: the admin console and the legacy export endpoint.",
    "Link the incident review and the related pull requests here.",
)
SEARCH_PHRASE = "payment webhook"  # endpoint E5 searches for it; one title in 16 contains it
TYPES = (("epic", 3), ("story", 20), ("task", 50), ("bug", 17), ("spike", 10))
PARENT_TYPES = {"story": ("epic",), "task": ("story", "epic"), "bug": ("story", "epic")}
PARENT_TYPES["spike"] = PARENT_TYPES["task"]
ESTIMATES = (1.0, 2.0, 3.0, 5.0, 8.0, 13.0)
CATEGORY = dict(DEFAULT_STATUSES)  # status name -> category


@dataclass(frozen=True)
class Size:
    name: str
    projects: int
    items_per_project: int
    users: int
    big_items: int  # items of project BIG
    big_sprint_items: int  # items in BIG's active sprint
    postgres_only: bool = False

    @property
    def sprint_items(self) -> int:
        """Items per sprint in a regular project (and in BIG's completed sprints)."""
        return max(3, round(self.items_per_project * 0.03))

    @property
    def total_items(self) -> int:
        return self.projects * self.items_per_project + self.big_items

    def __post_init__(self) -> None:
        # BIG holds its sprints' items and a backlog besides.
        assert self.big_items > (SPRINTS - 1) * self.sprint_items + self.big_sprint_items


SIZES = {
    "S": Size(
        "S", projects=5, items_per_project=200, users=50, big_items=400, big_sprint_items=250
    ),
    "M": Size("M", 50, 2_000, 500, big_items=6_500, big_sprint_items=5_000),
    "L": Size(
        "L", 100, 10_000, 2_000, big_items=12_000, big_sprint_items=5_000, postgres_only=True
    ),
}


def project_keys(size: Size) -> list[str]:
    """Regular projects P001… then BIG."""
    return [f"P{i:03d}" for i in range(1, size.projects + 1)] + [BIG]


def new_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def day_at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


@dataclass(frozen=True)
class User:
    id: str
    username: str


def users(size: Size, password_hash: str, anchor: date, seed: int = SEED) -> list[dict[str, Any]]:
    """`bench` first, then user0001…; all share one password hash."""
    rng = random.Random(f"{seed}:users")  # noqa: S311 (seeded test data, not secrets)
    created = day_at(anchor - timedelta(days=SPRINTS * 14 + 60), 8)
    names = [LOGIN] + [f"user{i:04d}" for i in range(1, size.users + 1)]
    return [
        {
            "id": new_uuid(rng),
            "username": name,
            "username_key": name,
            "email": f"{name}@bench.takt.example",
            "email_key": f"{name}@bench.takt.example",
            "display_name": name.capitalize(),
            "password_hash": password_hash,
            "is_admin": False,
            "is_active": True,
            "created_at": created,
            "updated_at": created,
            "version": 1,
        }
        for name in names
    ]
