"""GitHub's webhook payloads (`X-GitHub-Event`): `pull_request`, `pull_request_review`,
`push`, `deployment` and `deployment_status` are read; every other event, and actions Takt
doesn't use, are ignored."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from takt.delivery.facts import (
    CommitFacts,
    Person,
    PullRequestAction,
    PullRequestChange,
    PullRequestFacts,
    PushFacts,
    ReviewFacts,
    ReviewState,
)
from takt.integrations.deployment_payloads import (
    WORKFLOW_RUN,
    github_deployment,
    github_deployment_status,
)
from takt.integrations.payloads import (
    Ignored,
    Json,
    Parsed,
    WrongShape,
    commit_time,
    ident,
    integer,
    obj,
    objects,
    opt_bool,
    opt_int,
    opt_obj,
    opt_text,
    opt_timestamp,
    text,
    timestamp,
)

PULL_REQUEST_ACTIONS: dict[str, PullRequestAction] = {
    "opened": "opened",
    "edited": "edited",
    "synchronize": "synchronize",
    "ready_for_review": "ready_for_review",
    "converted_to_draft": "converted_to_draft",
    "closed": "closed",
    "reopened": "reopened",
    "review_requested": "review_requested",
    "review_request_removed": "review_request_removed",
}
REVIEW_STATES: dict[str, ReviewState] = {
    "approved": "approved",
    "changes_requested": "changes_requested",
    "commented": "commented",
    "dismissed": "dismissed",
}
ZERO_SHA = "0" * 40


def person(user: Json | None) -> Person | None:
    """A GitHub user (or bot): `type: Bot` or a `[bot]` login is a bot."""
    if user is None:
        return None
    login = text(user, "login", "user")
    is_bot = user.get("type") == "Bot" or login.endswith("[bot]")
    return Person(login=login, external_id=ident(user, "id", "user"), is_bot=is_bot)


def _team(team: Json | None) -> Person | None:
    if team is None:
        return None
    slug = opt_text(team, "slug", "requested_team") or text(team, "name", "requested_team")
    return Person(login=f"team:{slug}", external_id=ident(team, "id", "requested_team"))


def pull_request_facts(pr: Json) -> PullRequestFacts:
    path = "pull_request"
    merged = bool(opt_bool(pr, "merged", path))
    merged_at = opt_timestamp(pr, "merged_at", path)
    raw_state = text(pr, "state", path)
    if raw_state not in ("open", "closed"):
        raise WrongShape(f"`pull_request.state` is {raw_state[:20]!r}, not open or closed")
    state = "merged" if merged or merged_at is not None else raw_state
    head = opt_obj(pr, "head", path) or {}
    base = opt_obj(pr, "base", path) or {}
    reviewers = tuple(
        found for found in (person(u) for u in objects(pr, "requested_reviewers", path)) if found
    )
    return PullRequestFacts(
        number=integer(pr, "number", path),
        title=text(pr, "title", path),
        state=state,  # type: ignore[arg-type]
        draft=bool(opt_bool(pr, "draft", path)),
        created_at=timestamp(pr, "created_at", path),
        external_id=ident(pr, "id", path),
        body=opt_text(pr, "body", path) or "",
        url=opt_text(pr, "html_url", path),
        author=person(opt_obj(pr, "user", path)),
        source_branch=opt_text(head, "ref", "pull_request.head"),
        target_branch=opt_text(base, "ref", "pull_request.base"),
        head_sha=opt_text(head, "sha", "pull_request.head"),
        updated_at=opt_timestamp(pr, "updated_at", path),
        merged_at=merged_at,
        closed_at=opt_timestamp(pr, "closed_at", path),
        additions=opt_int(pr, "additions", path),
        deletions=opt_int(pr, "deletions", path),
        changed_files=opt_int(pr, "changed_files", path),
        commits=opt_int(pr, "commits", path),
        requested_reviewers=reviewers,
    )


def _pull_request(payload: Json, action: str) -> PullRequestChange | Ignored:
    known = PULL_REQUEST_ACTIONS.get(action)
    if known is None:
        return Ignored(f"pull_request action `{action}` is not used")
    facts = pull_request_facts(obj(payload, "pull_request"))
    at = facts.updated_at or facts.created_at
    requested: tuple[Person, ...] = ()
    if known in ("review_requested", "review_request_removed"):
        someone = person(opt_obj(payload, "requested_reviewer")) or _team(
            opt_obj(payload, "requested_team")
        )
        if someone is None:
            raise WrongShape("`requested_reviewer` or `requested_team` must be an object")
        requested = (someone,)
    return PullRequestChange(
        pull_request=facts,
        action=known,
        at=at,
        actor=person(opt_obj(payload, "sender")),
        requested=requested,
    )


def _review(payload: Json, action: str) -> PullRequestChange | Ignored:
    if action not in ("submitted", "dismissed"):
        return Ignored(f"pull_request_review action `{action}` is not used")
    review = obj(payload, "review")
    state = text(review, "state", "review").lower()
    if action == "dismissed":
        state = "dismissed"
    verdict = REVIEW_STATES.get(state)
    if verdict is None:
        return Ignored(f"review state `{state[:30]}` is not used")
    reviewer = person(opt_obj(review, "user", "review")) or person(opt_obj(payload, "sender"))
    if reviewer is None:
        raise WrongShape("`review.user` must be an object")
    facts = pull_request_facts(obj(payload, "pull_request"))
    submitted = opt_timestamp(review, "submitted_at", "review") or facts.updated_at
    review_id = ident(review, "id", "review")
    if review_id is None:
        raise WrongShape("`review.id` must be a number or a string")
    return PullRequestChange(
        pull_request=facts,
        action="review",
        at=submitted or facts.created_at,
        actor=person(opt_obj(payload, "sender")),
        review=ReviewFacts(
            external_id=review_id,
            reviewer=reviewer,
            state=verdict,
            submitted_at=submitted or facts.created_at,
        ),
    )


def _push(payload: Json, received_at: datetime) -> PushFacts:
    ref = text(payload, "ref")
    branch = ref.removeprefix("refs/heads/") if ref.startswith("refs/heads/") else None
    deleted = bool(opt_bool(payload, "deleted")) or payload.get("after") == ZERO_SHA
    commits = []
    for index, commit in enumerate(objects(payload, "commits")):
        path = f"commits[{index}]"
        author = opt_obj(commit, "author", path) or {}
        commits.append(
            CommitFacts(
                sha=text(commit, "id", path),
                message=opt_text(commit, "message", path) or "",
                author_name=opt_text(author, "name", f"{path}.author"),
                author_login=opt_text(author, "username", f"{path}.author"),
                committed_at=commit_time(commit, "timestamp", path),
            )
        )
    sender = person(opt_obj(payload, "sender"))
    return PushFacts(
        ref=ref,
        branch=branch,
        pushed_at=received_at,
        pusher=sender,
        forced=bool(opt_bool(payload, "forced")),
        deleted=deleted,
        commits=tuple(commits),
    )


def parse(event: str, payload: Any, received_at: datetime) -> Parsed:
    """What a GitHub delivery of `event` says; `WrongShape` when it isn't that event's shape."""
    if not isinstance(payload, dict):
        raise WrongShape("the payload must be a JSON object")
    action = opt_text(payload, "action")
    repository = opt_obj(payload, "repository")
    full_name = opt_text(repository, "full_name", "repository") if repository else None
    if event == "pull_request":
        if action is None:
            raise WrongShape("`action` must be a string")
        return Parsed(action, full_name, _pull_request(payload, action))
    if event == "pull_request_review":
        if action is None:
            raise WrongShape("`action` must be a string")
        return Parsed(action, full_name, _review(payload, action))
    if event == "push":
        return Parsed(action, full_name, _push(payload, received_at))
    if event in ("deployment", "deployment_status"):
        if action is None:
            raise WrongShape("`action` must be a string")
        read = github_deployment if event == "deployment" else github_deployment_status
        return Parsed(action, full_name, read(payload, action))
    if event == "workflow_run":
        return Parsed(action, full_name, Ignored(WORKFLOW_RUN))
    if event == "ping":
        return Parsed(action, full_name, Ignored("ping: GitHub checks that the webhook works"))
    return Parsed(action, full_name, Ignored(f"event `{event[:60]}` is not used"))
