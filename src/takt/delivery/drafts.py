"""Delivery's source of stand-up drafts (`takt.standups.drafts`): the pull requests a member
opened, merged or reviewed since their last entry, and their pull requests waiting for a review
for more than a day as suggested blockers. Registered when delivery is wired
(`delivery.subscriptions`)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from takt.core.events import parse_event
from takt.core.time import utcnow
from takt.delivery import repository as repo
from takt.delivery.events import (
    PullRequestEvent,
    PullRequestMerged,
    PullRequestOpened,
    PullRequestReviewSubmitted,
)
from takt.standups import repository as standups_repo
from takt.standups.drafts import MAX_LINES_PER_SOURCE, DraftSource, DraftWindow, SourceLine

NAME = "delivery.pull_requests"
# A pull request waiting longer than this for a review is a suggested blocker of its author.
WAITING_TOO_LONG = timedelta(hours=24)
KINDS = {
    PullRequestOpened.event_type: "pr_opened",
    PullRequestMerged.event_type: "pr_merged",
    PullRequestReviewSubmitted.event_type: "pr_reviewed",
}


def _summary(data: PullRequestEvent) -> str:
    title = data.title if len(data.title) <= 80 else data.title[:79] + "…"
    if isinstance(data, PullRequestOpened):
        return f"opened {data.repository}#{data.number} {title}"
    if isinstance(data, PullRequestMerged):
        return f"merged {data.repository}#{data.number} {title}"
    assert isinstance(data, PullRequestReviewSubmitted)
    verdict = data.review_state.replace("_", " ")
    return f"reviewed {data.repository}#{data.number} {title} ({verdict})"


async def pull_request_lines(session: AsyncSession, window: DraftWindow) -> list[SourceLine]:
    """The member's pull-request events in the window ("yesterday"), and their pull requests
    waiting for a review for more than 24 hours ("blockers", suggested when they name an
    item): two statements."""
    rows = await standups_repo.actor_events(
        session,
        window.project_id,
        window.user_id,
        list(KINDS),
        window.since,
        window.until,
        limit=MAX_LINES_PER_SOURCE,
    )
    lines = []
    for row in rows:
        data, _ = parse_event(row.type, row.data or {}, row.changes)
        assert isinstance(data, PullRequestEvent)
        lines.append(
            SourceLine(
                section="yesterday",
                kind=KINDS[row.type],
                summary=_summary(data),
                item_key=data.item_key,
                event_id=row.id,
                occurred_at=row.occurred_at,
                detail={"pull_request_id": data.id, "number": data.number, "url": data.url},
            )
        )
    now = utcnow()
    for pr, item_key in await repo.waiting_authored_by(
        session, window.project_id, window.user_id, now - WAITING_TOO_LONG, MAX_LINES_PER_SOURCE
    ):
        assert pr.waiting_since is not None
        hours = int((now - pr.waiting_since).total_seconds() // 3600)
        reason = f"Pull request #{pr.number} has waited {hours} h for a review."
        lines.append(
            SourceLine(
                section="blockers",
                kind="pull_request_waiting",
                summary=f"#{pr.number} {pr.title[:80]} waiting for review for {hours} h",
                item_key=item_key,
                event_id=None,
                occurred_at=pr.waiting_since,
                detail={"pull_request_id": pr.id, "number": pr.number, "url": pr.url},
                suggest=reason if item_key is not None else None,
            )
        )
    return lines


SOURCE = DraftSource(NAME, pull_request_lines)
