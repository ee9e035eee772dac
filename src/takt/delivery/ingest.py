"""Recording what a provider's webhook says (`takt.delivery.facts`): pull requests with their
reviewers, reviews and derived timestamps, commits from pushes, their links to work items, the
events of each change and the review automation.

Everything a pull request shows that could depend on the order deliveries arrive in (its state,
first review, approval, review rounds, how long it has waited) is derived again from the stored
reviews and review requests after each delivery, so deliveries that arrive out of order give
the same pull request. Its own fields (title, branches, draft, merged…) come from the newest
payload: an older one that arrives late doesn't undo a newer one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from takt.core.events import emit
from takt.core.models import new_id
from takt.core.time import utcnow
from takt.delivery import automation
from takt.delivery import repository as repo
from takt.delivery.events import (
    CommitPushed,
    PullRequestClosed,
    PullRequestConvertedToDraft,
    PullRequestEvent,
    PullRequestLinked,
    PullRequestMerged,
    PullRequestOpened,
    PullRequestReadyForReview,
    PullRequestReopened,
    PullRequestReviewDismissed,
    PullRequestReviewRequested,
    PullRequestReviewSubmitted,
)
from takt.delivery.facts import CommitFacts, Person, PullRequestChange, PushFacts
from takt.delivery.models import PullRequest, PullRequestReviewer, Repository, Review
from takt.items.models import Item
from takt.projects.models import Project

MAX_TITLE = 1024
MAX_BODY = 65536
MAX_NAME = 255
# Review requests kept per pull request (for review rounds): far more than a review takes.
MAX_REQUESTS_KEPT = 100
# Item keys one text may link (a description listing hundreds of keys links the first 100).
MAX_KEYS = 100
REVIEWING = ("open", "approved", "changes_requested")


def _cut(text: str | None, limit: int) -> str:
    return (text or "")[:limit]


def _cut_or_none(text: str | None, limit: int = MAX_NAME) -> str | None:
    return text[:limit] if text else None


# Item keys ----------------------------------------------------------------------------------------


def item_keys_in(project_key: str, *texts: str | None) -> list[str]:
    """The keys of the project's items named in `texts`: `API-42` ignoring case, not inside a
    longer word or number (`xAPI-42` and `API-420` don't name API-42; `feature/api-42-login`
    and `API-42_fix` do), with leading zeros dropped; sorted, at most 100."""
    pattern = re.compile(
        rf"(?<![A-Za-z0-9]){re.escape(project_key)}-0*([1-9][0-9]{{0,9}})(?![0-9A-Za-z])",
        re.IGNORECASE,
    )
    found: set[int] = set()
    for text in texts:
        if text:
            found |= {int(number) for number in pattern.findall(text[:MAX_BODY])}
    return [f"{project_key}-{number}" for number in sorted(found)[:MAX_KEYS]]


# A batch of deliveries ----------------------------------------------------------------------------


@dataclass
class _Held:
    """A pull request this transaction locked, with its reviewers and reviews as recorded."""

    pull_request: PullRequest
    known: dict[str, PullRequestReviewer]
    reviews: list[Review]
    # The item keys it named last and the items they are (all linked to it by then).
    links: tuple[list[str], list[Item]] | None = None


@dataclass
class Batch:
    """What deliveries recorded one after the other in one transaction (the worker's batch)
    share, read once: whose the provider logins are, and each pull request they are about.
    A pull request stays locked until the transaction ends, so what was read of it and what
    was written since is what it is (a batch that fails is rolled back whole, and the batch
    with it)."""

    users: dict[tuple[str, str], str | None] = dataclass_field(default_factory=dict)
    pulls: dict[tuple[str, int], _Held] = dataclass_field(default_factory=dict)

    async def prefetch_users(
        self, session: AsyncSession, outcomes: Iterable[tuple[str, object]]
    ) -> None:
        """Read the logins every delivery names, one statement per provider."""
        by_provider: dict[str, list[str]] = {}
        for provider, outcome in outcomes:
            if isinstance(outcome, PullRequestChange):
                by_provider.setdefault(provider, []).extend(_logins(outcome))
            elif isinstance(outcome, PushFacts):
                by_provider.setdefault(provider, []).extend(_push_logins(outcome.commits, outcome))
        for provider, logins in by_provider.items():
            await self.users_by_login(session, provider, logins)

    async def users_by_login(
        self, session: AsyncSession, provider: str, logins: Iterable[str]
    ) -> dict[str, str]:
        keys = {login.lower() for login in logins}
        missing = sorted(key for key in keys if (provider, key) not in self.users)
        if missing:
            found = await repo.users_by_login(session, provider, missing)
            self.users.update({(provider, key): found.get(key) for key in missing})
        return {key: user for key in keys if (user := self.users[(provider, key)]) is not None}


async def _users(
    session: AsyncSession, batch: Batch | None, provider: str, logins: list[str]
) -> dict[str, str]:
    if batch is None:
        return await repo.users_by_login(session, provider, logins)
    return await batch.users_by_login(session, provider, logins)


# Pull requests ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Before:
    state: str
    draft: bool
    merged: bool
    closed: bool


@dataclass(frozen=True)
class _Derived:
    state: str
    first_review_at: datetime | None
    approved_at: datetime | None
    approved: bool
    review_rounds: int
    waiting_since: datetime | None


def derive(pr: PullRequest, reviews: Sequence[Review], provider_state: str) -> _Derived:
    """What follows from the pull request's own fields, its reviews and its review requests
    (METRICS.md, Code review):

    - first review: the first review by someone other than the author once it was ready;
    - approved: an approving review stands (each reviewer's latest verdict counts; a dismissed
      review withdraws theirs); for a merged pull request, as it stood when it merged;
    - review rounds: each "changes requested" followed by a new review request;
    - waiting since: the later of ready and the latest review request, when no review came
      after it and it is open (not a draft, not approved).
    """
    author = (pr.author_login or "").lower()
    others = [r for r in reviews if r.reviewer_login.lower() != author]
    ready = pr.ready_at
    first = min(
        (r.submitted_at for r in others if ready is None or r.submitted_at >= ready), default=None
    )
    approved_at = min((r.submitted_at for r in others if r.state == "approved"), default=None)
    until = pr.merged_at
    verdicts: dict[str, str] = {}
    for review in others:  # oldest first: the latest verdict of each reviewer wins
        if until is not None and review.submitted_at > until:
            continue
        if review.state in ("approved", "changes_requested", "dismissed"):
            verdicts[review.reviewer_login.lower()] = review.state
    approved = "approved" in verdicts.values()
    changes_requested = "changes_requested" in verdicts.values()
    if provider_state == "merged" or pr.merged_at is not None:
        state = "merged"
    elif provider_state == "closed":
        state = "closed"
    elif pr.draft:
        state = "draft"
    elif changes_requested:
        state = "changes_requested"
    elif approved:
        state = "approved"
    else:
        state = "open"
    requests = sorted(datetime.fromisoformat(at) for at in pr.review_requests or [])
    timeline = sorted(
        [(r.submitted_at, 0) for r in others if r.state == "changes_requested"]
        + [(at, 1) for at in requests]
    )
    rounds, pending = 0, False
    for _, kind in timeline:
        if kind == 0:
            pending = True
        elif pending:
            rounds, pending = rounds + 1, False
    waiting = None
    if state in ("open", "changes_requested") and ready is not None:
        start = max([ready, *requests])
        last_review = max((r.submitted_at for r in others), default=None)
        if last_review is None or last_review < start:
            waiting = start
    return _Derived(state, first, approved_at, approved, rounds, waiting)


async def _pull_request(
    session: AsyncSession, repository: Repository, number: int, opened_at: datetime
) -> tuple[PullRequest, bool]:
    """The pull request, locked; made first if it is new (True). Two deliveries about a new one
    at once: one inserts, the other's insert does nothing and it then finds the row (waiting
    for the first to commit on PostgreSQL)."""
    found = await repo.pull_request_for_update(session, repository.id, number)
    if found is not None:
        return found, False
    made = await repo.insert_pull_request(
        session, repository.id, repository.project_id, number, opened_at
    )
    found = await repo.pull_request_for_update(session, repository.id, number)
    assert found is not None
    return found, made


def _logins(change: PullRequestChange) -> list[str]:
    facts = change.pull_request
    people: list[Person | None] = [facts.author, change.actor, *change.requested]
    if change.review is not None:
        people.append(change.review.reviewer)
    people += list(facts.requested_reviewers or ())
    return [person.login for person in people if person is not None]


def _fill_in(pr: PullRequest, change: PullRequestChange, users: dict[str, str]) -> None:
    """What any payload may tell that the pull request doesn't know yet (an older payload
    arriving late still names the author GitLab only names when it is opened)."""
    facts = change.pull_request
    if facts.author is not None and pr.author_login is None:
        pr.author_login = _cut_or_none(facts.author.login)
        pr.author_external_id = _cut_or_none(facts.author.external_id, 64)
        pr.author_is_bot = facts.author.is_bot
        pr.author_user_id = users.get(facts.author.login.lower())
    if pr.external_id is None and facts.external_id is not None:
        pr.external_id = facts.external_id[:64]
    pr.url = pr.url or _cut_or_none(facts.url, 2048)
    pr.source_branch = pr.source_branch or _cut_or_none(facts.source_branch)
    pr.target_branch = pr.target_branch or _cut_or_none(facts.target_branch)
    pr.opened_at = min(pr.opened_at, facts.created_at)


def _apply_own_fields(pr: PullRequest, change: PullRequestChange, users: dict[str, str]) -> None:
    """The newest payload's view of the pull request's own fields."""
    facts = change.pull_request
    pr.title = _cut(facts.title, MAX_TITLE)
    pr.body = _cut(facts.body, MAX_BODY)
    pr.url = _cut_or_none(facts.url, 2048) or pr.url
    if facts.author is not None:
        pr.author_login = _cut_or_none(facts.author.login)
        pr.author_external_id = _cut_or_none(facts.author.external_id, 64)
        pr.author_is_bot = facts.author.is_bot
        pr.author_user_id = users.get(facts.author.login.lower())
    pr.source_branch = _cut_or_none(facts.source_branch) or pr.source_branch
    pr.target_branch = _cut_or_none(facts.target_branch) or pr.target_branch
    pr.head_sha = _cut_or_none(facts.head_sha, 64) or pr.head_sha
    pr.draft = facts.draft
    pr.merged_at = facts.merged_at if facts.state == "merged" else None
    if facts.state == "merged" and pr.merged_at is None:
        pr.merged_at = facts.closed_at or change.at
    pr.closed_at = facts.closed_at or (change.at if facts.state != "open" else None)
    if facts.state == "open":
        pr.closed_at = None
    for field in ("additions", "deletions", "changed_files"):
        value = getattr(facts, field)
        if value is not None:
            setattr(pr, field, value)
    if facts.commits is not None:
        pr.commit_count = facts.commits
    if facts.updated_at is not None:
        pr.provider_updated_at = facts.updated_at


async def _reviewer(
    session: AsyncSession,
    pr: PullRequest,
    known: dict[str, PullRequestReviewer],
    person: Person,
    users: dict[str, str],
) -> PullRequestReviewer:
    key = person.login.lower()[:MAX_NAME]
    reviewer = known.get(key)
    if reviewer is None:
        reviewer = PullRequestReviewer(
            pull_request_id=pr.id,
            login_key=key,
            login=person.login[:MAX_NAME],
            user_id=users.get(key),
            requested=False,
            reviewed=False,
        )
        session.add(reviewer)
        known[key] = reviewer
    return reviewer


async def _sync_requested(
    session: AsyncSession,
    pr: PullRequest,
    known: dict[str, PullRequestReviewer],
    requested: Iterable[Person],
    users: dict[str, str],
) -> None:
    """The payload lists who is requested now: they are, the others no longer are."""
    wanted = {person.login.lower()[:MAX_NAME]: person for person in requested}
    for key, reviewer in known.items():
        reviewer.requested = key in wanted
    for person in wanted.values():
        (await _reviewer(session, pr, known, person, users)).requested = True


async def _record_review(
    session: AsyncSession,
    pr: PullRequest,
    change: PullRequestChange,
    known: dict[str, PullRequestReviewer],
    users: dict[str, str],
    reviews: list[Review],
) -> str | None:
    """Store the review (or its dismissal) and keep `reviews`, the pull request's reviews, up to
    date with it; "submitted" or "dismissed" when it is news."""
    review = change.review
    assert review is not None
    external_id = review.external_id[:128]
    stored = next((r for r in reviews if r.external_id == external_id), None)
    reviewer = await _reviewer(session, pr, known, review.reviewer, users)
    if stored is None:
        made = Review(
            pull_request_id=pr.id,
            external_id=external_id,
            reviewer_login=review.reviewer.login[:MAX_NAME],
            reviewer_user_id=users.get(review.reviewer.login.lower()),
            state=review.state,
            submitted_at=review.submitted_at,
        )
        session.add(made)
        reviews.append(made)
        reviews.sort(key=lambda r: r.submitted_at)
        reviewer.reviewed = True
        if review.state != "dismissed":
            reviewer.requested = False
            return "submitted"
        return "dismissed"
    if stored.state != review.state and review.state == "dismissed":
        stored.state = "dismissed"
        return "dismissed"
    return None


async def apply_pull_request(
    session: AsyncSession,
    repository: Repository,
    project: Project,
    change: PullRequestChange,
    *,
    batch: Batch | None = None,
) -> None:
    """Record one delivery about a pull request, with its events and the automation (with
    `batch`, reading what the batch's earlier deliveries read of it only once)."""
    facts = change.pull_request
    users = await _users(session, batch, repository.provider, _logins(change))
    held = batch.pulls.get((repository.id, facts.number)) if batch is not None else None
    if held is not None:
        pr, created = held.pull_request, False
    else:
        pr, created = await _pull_request(session, repository, facts.number, facts.created_at)
    before = _Before(
        state=pr.state, draft=pr.draft, merged=pr.merged_at is not None, closed=pr.state == "closed"
    )
    newest = (
        created
        or pr.provider_updated_at is None
        or facts.updated_at is None
        or facts.updated_at >= pr.provider_updated_at
    )
    if held is not None:
        known, reviews = held.known, held.reviews
    else:
        known = {} if created else {r.login_key: r for r in await repo.reviewers_of(session, pr.id)}
        reviews = [] if created else await repo.reviews_of(session, pr.id)
        if batch is not None:
            batch.pulls[(repository.id, facts.number)] = _Held(pr, known, reviews)
    provider_state = pr.state if pr.state in ("merged", "closed") else "open"
    _fill_in(pr, change, users)
    if newest:
        _apply_own_fields(pr, change, users)
        provider_state = facts.state
        if facts.requested_reviewers is not None:
            await _sync_requested(session, pr, known, facts.requested_reviewers, users)
    if not pr.draft and pr.ready_at is None:
        # New and not a draft: ready since it was opened (unless this is the news that it got
        # ready, its opening not seen yet); otherwise ready from this change on.
        since_opened = created and change.action != "ready_for_review"
        pr.ready_at = facts.created_at if since_opened else change.at
    requested_logins: list[str] = []
    if change.action == "review_requested" and change.requested:
        requests = [*(pr.review_requests or []), change.at.isoformat()]
        pr.review_requests = requests[-MAX_REQUESTS_KEPT:]
        for person in change.requested:
            (await _reviewer(session, pr, known, person, users)).requested = True
            requested_logins.append(person.login[:MAX_NAME])
    elif change.action == "review_request_removed":
        for person in change.requested:
            (await _reviewer(session, pr, known, person, users)).requested = False
    review_news = None
    if change.review is not None:
        review_news = await _record_review(session, pr, change, known, users, reviews)

    derived = derive(pr, reviews, provider_state)
    pr.state = derived.state
    pr.first_review_at = derived.first_review_at
    pr.approved_at = derived.approved_at
    pr.approved = derived.approved
    pr.review_rounds = derived.review_rounds
    pr.waiting_since = derived.waiting_since
    pr.updated_at = utcnow()

    # Links: keys in the branch, the title and the description, of this project's items (one
    # statement reads those and the items linked already).
    keys = item_keys_in(project.key, pr.source_branch, pr.title, pr.body)
    held = batch.pulls.get((repository.id, facts.number)) if batch is not None else None
    if held is not None and held.links is not None and held.links[0] == keys:
        # The same keys as the batch's last delivery about it: the same items, linked then.
        items, new_links = held.links[1], []
    else:
        found = await repo.items_to_link(session, project.id, pr.id, keys)
        items = [item for item, _ in found]
        new_links = [item for item, linked in found if not linked]
        await repo.link_pull_request(session, pr.id, [item.id for item in new_links], utcnow())
        # Kept for the batch's next delivery about it, unless the automation may move its
        # items (it must see their status as it is now).
        if held is not None and not automation.enabled(project):
            held.links = (keys, items)

    actor = users.get(change.actor.login.lower()) if change.actor is not None else None
    base = _event_fields(pr, repository)
    emitted: list[PullRequestEvent] = []
    if created:
        emitted.append(
            PullRequestOpened(
                **base,
                draft=pr.draft,
                source_branch=pr.source_branch,
                target_branch=pr.target_branch,
            )
        )
    else:
        if before.draft and not pr.draft and pr.state in REVIEWING:
            emitted.append(PullRequestReadyForReview(**base))
        if not before.draft and pr.draft and pr.state == "draft":
            emitted.append(PullRequestConvertedToDraft(**base))
        if before.closed and pr.state not in ("closed", "merged"):
            emitted.append(PullRequestReopened(**base))
    for login in requested_logins:
        emitted.append(PullRequestReviewRequested(**base, reviewer=login))
    if review_news == "submitted" and change.review is not None:
        emitted.append(
            PullRequestReviewSubmitted(
                **base,
                reviewer=change.review.reviewer.login[:MAX_NAME],
                review_state=change.review.state,
            )
        )
    elif review_news == "dismissed" and change.review is not None:
        emitted.append(
            PullRequestReviewDismissed(**base, reviewer=change.review.reviewer.login[:MAX_NAME])
        )
    if not before.merged and pr.state == "merged":
        emitted.append(PullRequestMerged(**base, approved=pr.approved))
    if not before.closed and pr.state == "closed":
        emitted.append(PullRequestClosed(**base))
    for data in emitted:
        await _emit_per_item(session, data, items, project, actor, pr.id)
    if not created:
        for item in new_links:
            await _emit_per_item(session, PullRequestLinked(**base), [item], project, actor, pr.id)

    # The automation: ready for review → in review; merged → done (never backwards).
    became_reviewable = pr.state in REVIEWING and (
        created or before.draft or before.closed or before.state not in REVIEWING
    )
    if not before.merged and pr.state == "merged":
        await automation.advance(session, project, items, "done", pr)
    elif pr.state == "merged" and new_links:
        await automation.advance(session, project, new_links, "done", pr)
    elif became_reviewable:
        await automation.advance(session, project, items, "in_review", pr)
    elif pr.state in REVIEWING and new_links:
        await automation.advance(session, project, new_links, "in_review", pr)


def _event_fields(pr: PullRequest, repository: Repository) -> dict[str, Any]:
    return {
        "id": pr.id,
        "repository_id": repository.id,
        "repository": repository.full_name,
        "number": pr.number,
        "title": pr.title[:255],
        "url": pr.url,
        "author": pr.author_login,
        "state": pr.state,
    }


async def _emit_per_item(
    session: AsyncSession,
    data: PullRequestEvent | CommitPushed,
    items: Sequence[Item],
    project: Project,
    actor: str | None,
    own_subject: str,
) -> None:
    """One copy per linked item (about the item), or one about the thing itself."""
    if not items:
        await emit(session, data, project, actor, subject=own_subject)
        return
    for item in items:
        copy = data.model_copy(update={"item_key": item.key})
        await emit(session, copy, project, actor, subject=item.id)


# Pushes -------------------------------------------------------------------------------------------


def _push_logins(commits: Iterable[CommitFacts], push: PushFacts) -> list[str]:
    logins = [c.author_login for c in commits if c.author_login]
    if push.pusher is not None:
        logins.append(push.pusher.login)
    return logins


async def apply_push(
    session: AsyncSession,
    repository: Repository,
    project: Project,
    push: PushFacts,
    *,
    batch: Batch | None = None,
) -> int:
    """Record the commits of a push to a branch that are new to Takt, link them to the items
    their messages name and write `commit.pushed` for each; how many were new. A push that
    deleted its branch, or of a tag, records nothing."""
    if push.deleted or push.branch is None:
        return 0
    shas = [commit.sha[:64] for commit in push.commits]
    known = await repo.known_shas(session, repository.id, shas)
    fresh = [c for c in push.commits if c.sha[:64] not in known]
    if not fresh:
        return 0
    users = await _users(session, batch, repository.provider, _push_logins(fresh, push))
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for commit in fresh:
        sha = commit.sha[:64]
        if sha in seen:
            continue
        seen.add(sha)
        rows.append(
            {
                "id": new_id(),
                "repository_id": repository.id,
                "project_id": project.id,
                "sha": sha,
                "message": _cut(commit.message, MAX_BODY),
                "author_name": _cut_or_none(commit.author_name),
                "author_login": _cut_or_none(commit.author_login),
                "author_user_id": users.get((commit.author_login or "").lower()),
                "committed_at": commit.committed_at,
                "branch": _cut_or_none(push.branch),
                "pushed_at": push.pushed_at,
            }
        )
    inserted = await repo.insert_commits(session, rows)
    keys_by_sha = {
        row["sha"]: item_keys_in(project.key, row["message"])
        for row in rows
        if row["sha"] in inserted
    }
    items = {
        item.key: item
        for item in await repo.items_by_key(
            session, project.id, sorted({k for keys in keys_by_sha.values() for k in keys})
        )
    }
    now = utcnow()
    await repo.link_commits(
        session,
        [
            {"commit_id": inserted[sha], "item_id": items[key].id, "linked_at": now}
            for sha, keys in keys_by_sha.items()
            for key in keys
            if key in items
        ],
    )
    pusher = users.get(push.pusher.login.lower()) if push.pusher is not None else None
    for row in rows:
        if row["sha"] not in inserted:
            continue
        linked = [items[key] for key in keys_by_sha[row["sha"]] if key in items]
        data = CommitPushed(
            id=inserted[row["sha"]],
            repository_id=repository.id,
            repository=repository.full_name,
            sha=row["sha"],
            message=row["message"].split("\n", 1)[0][:255],
            branch=row["branch"],
            author=row["author_login"] or row["author_name"],
            forced=push.forced,
        )
        actor = row["author_user_id"] or pusher
        await _emit_per_item(session, data, linked, project, actor, inserted[row["sha"]])
    return len(inserted)
