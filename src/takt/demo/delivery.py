"""The demo project's code reviews: a linked GitHub repository (`acme/checkout`) whose pull
requests over the last weeks name the demo's items, with reviews, change requests and merges
recorded through the same code the webhooks feed (`takt.delivery.ingest`), so the pull-request
lists, the review metrics and the stand-up drafts have real numbers from the first minute.

The team's GitHub logins are linked to their accounts. The review automation is switched on at
the end, so a pull request replayed against the demo (docs/github.md) moves its items; the
history itself was loaded with it off, so the demo's sprints are as the backlog made them.

The repository's secret is sealed under a key of the loader's own: rotate it
(`POST /repositories/{id}/rotate-secret`) to get one the server can check deliveries with.
"""

from __future__ import annotations

import random
import secrets
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from takt.auth.principal import Principal
from takt.core.audit import ClientContext
from takt.core.crypto import SecretBox
from takt.core.time import clock_at, utcnow
from takt.delivery import ingest
from takt.delivery import service as delivery
from takt.delivery.facts import Person, PullRequestChange, PullRequestFacts, ReviewFacts
from takt.delivery.schemas import RepositoryCreate
from takt.items import repository as items_repo
from takt.items.models import Item
from takt.projects import service as projects
from takt.projects.policies import ProjectAccess
from takt.projects.schemas import ProjectSettingsUpdate, ProjectUpdate
from takt.workflow import repository as workflow_repo

REPOSITORY = "acme/checkout"
CLIENT = ClientContext(address="demo-loader")
# Demo people and their GitHub logins.
LOGINS = {"maya": "maya-lead", "leo": "leo-dev", "sara": "sara-qa", "omar": "omar-design"}
AUTHORS = ("leo", "leo", "sara", "omar", "maya")
REVIEWERS = ("maya", "leo", "sara")


def _person(name: str) -> Person:
    return Person(login=LOGINS[name], external_id=str(1000 + list(LOGINS).index(name)))


def _branch(item: Item) -> str:
    words = "-".join(item.title.lower().split()[:4])
    return f"feature/{item.key.lower()}-{''.join(c for c in words if c.isalnum() or c == '-')}"


async def _apply(
    session: AsyncSession,
    repository: object,
    lead: ProjectAccess,
    change: PullRequestChange,
) -> None:
    with clock_at(change.at):
        await ingest.apply_pull_request(session, repository, lead.project, change)  # type: ignore[arg-type]


async def _pull_request(
    session: AsyncSession,
    repository: object,
    lead: ProjectAccess,
    rng: random.Random,
    number: int,
    item: Item,
    opened: datetime,
    *,
    merged: datetime | None,
    reviewed: bool = True,
) -> None:
    """One pull request's life: opened (sometimes a draft first), reviewed, perhaps changes
    requested and asked again, approved (or not), merged at `merged` or left open. Not
    `reviewed`: opened ready for review, a review asked for, and none given yet (it waits in the
    review queue)."""
    author = rng.choice(AUTHORS)
    reviewer = rng.choice([r for r in REVIEWERS if r != author])
    lines = rng.choice((8, 40, 120, 260, 600, 1400))
    draft_hours = rng.choice((0, 0, 0, 3))
    if not reviewed:
        draft_hours = 0
    base = {
        "number": number,
        "title": f"{item.key} {item.title}"[:200],
        "draft": False,
        "created_at": opened,
        "external_id": str(900000 + number),
        "body": f"Closes {item.key}.",
        "url": f"https://github.com/{REPOSITORY}/pull/{number}",
        "author": _person(author),
        "source_branch": _branch(item),
        "target_branch": "main",
        "additions": int(lines * 0.7),
        "deletions": lines - int(lines * 0.7),
        "changed_files": max(1, lines // 40),
        "commits": max(1, lines // 60),
    }

    def facts(at: datetime, **changes: object) -> PullRequestFacts:
        values: dict[str, object] = {"state": "open", **base, "updated_at": at, **changes}
        return PullRequestFacts(**values)  # type: ignore[arg-type]

    events: list[PullRequestChange] = []
    ready = opened + timedelta(hours=draft_hours)
    if draft_hours:
        events.append(
            PullRequestChange(facts(opened, draft=True), "opened", opened, _person(author))
        )
        events.append(PullRequestChange(facts(ready), "ready_for_review", ready, _person(author)))
    else:
        events.append(PullRequestChange(facts(opened), "opened", opened, _person(author)))
    requested = (_person(reviewer),)
    events.append(
        PullRequestChange(
            facts(ready + timedelta(minutes=2), requested_reviewers=requested),
            "review_requested",
            ready + timedelta(minutes=2),
            _person(author),
            requested=requested,
        )
    )
    end = merged or utcnow()
    span = max((end - ready).total_seconds() / 3600, 1.0)
    first = ready + timedelta(hours=span * rng.uniform(0.1, 0.5))
    verdicts = ["approved"]
    if rng.random() < 0.35:
        verdicts = ["changes_requested", "approved"]
    if merged is not None and rng.random() < 0.12:
        verdicts = ["commented"]  # merged without an approving review
    if not reviewed:
        verdicts = []
    at = first
    for index, verdict in enumerate(verdicts):
        if at >= end:
            break
        review = ReviewFacts(
            external_id=f"{number}-{index}",
            reviewer=_person(reviewer),
            state=verdict,  # type: ignore[arg-type]
            submitted_at=at,
        )
        events.append(PullRequestChange(facts(at), "review", at, _person(reviewer), review=review))
        if verdict == "changes_requested":
            again = at + timedelta(hours=span * 0.15)
            events.append(
                PullRequestChange(
                    facts(again, requested_reviewers=requested),
                    "review_requested",
                    again,
                    _person(author),
                    requested=requested,
                )
            )
            at = again + timedelta(hours=span * 0.1)
    if merged is not None:
        events.append(
            PullRequestChange(
                facts(merged, state="merged", merged_at=merged, closed_at=merged),
                "closed",
                merged,
                _person(author),
            )
        )
    for change in events:
        if change.at <= utcnow():
            await _apply(session, repository, lead, change)


async def load_delivery(
    session: AsyncSession, lead: ProjectAccess, people: dict[str, Principal]
) -> None:
    """The repository, the team's logins, ~40 pull requests over the finished and current work,
    and the review automation switched on."""
    rng = random.Random(16)  # noqa: S311 (demo content, not security)
    project = lead.project
    now = utcnow()
    config = delivery.DeliveryConfig(
        box=SecretBox(secrets.token_urlsafe(48)), public_url="http://127.0.0.1:8000"
    )
    with clock_at(now - timedelta(days=36)):
        repository, _ = await delivery.create_repository(
            session,
            lead,
            RepositoryCreate(provider="github", full_name=REPOSITORY),
            config=config,
            client=CLIENT,
        )
        for name, login in LOGINS.items():
            if name in people:
                await delivery.link_identity(session, people[name], "github", login)
    categories = {s.id: s.category for s in await workflow_repo.statuses(session, project.id)}
    work = [i for i in await items_repo.project_items(session, project.id) if i.type != "epic"]
    finished = sorted(
        (i for i in work if categories.get(i.status_id) == "done" and i.finished_at),
        key=lambda i: (i.finished_at, i.key),
    )
    reviewing = [i for i in work if categories.get(i.status_id) in ("in_review", "in_progress")]
    number = 100
    for item in finished[-30:]:
        assert item.finished_at is not None
        merged = item.finished_at - timedelta(minutes=rng.randint(5, 90))
        opened = merged - timedelta(hours=rng.uniform(4, 60))
        number += 1
        await _pull_request(session, repository, lead, rng, number, item, opened, merged=merged)
    for index, item in enumerate(sorted(reviewing, key=lambda i: i.key)[:10]):
        number += 1
        opened = now - timedelta(hours=rng.uniform(2, 50))
        # The first waits for its review (the review queue has one from the first minute).
        await _pull_request(
            session, repository, lead, rng, number, item, opened, merged=None, reviewed=index > 0
        )
    await projects.update_project(
        session,
        lead,
        ProjectUpdate(settings=ProjectSettingsUpdate(review_automation=True)),
        if_match=None,
    )
