"""GitLab's webhook payloads (`X-Gitlab-Event`): `Merge Request Hook`, `Note Hook` (comments on
merge requests), `Push Hook`, `Deployment Hook` and `Pipeline Hook` (its deployment jobs) are
read; every other event, and actions Takt doesn't use, are ignored.

GitLab has no review objects: an approval is an approving review, a withdrawn approval
dismisses it, and a comment on the merge request by someone is a commented review.
Deployments are read in deployment_payloads.py."""

from __future__ import annotations

from dataclasses import replace
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
from takt.integrations.deployment_payloads import JOB_HOOK, gitlab_deployment, gitlab_pipeline
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
    opt_obj,
    opt_text,
    opt_timestamp,
    text,
    timestamp,
)

ZERO_SHA = "0" * 40
MR_ACTIONS: dict[str, PullRequestAction] = {
    "open": "opened",
    "reopen": "reopened",
    "close": "closed",
    "merge": "closed",
    "update": "edited",
}
APPROVALS = ("approved", "approval")
UNAPPROVALS = ("unapproved", "unapproval")


def person(user: Json | None, path: str = "user") -> Person | None:
    if user is None:
        return None
    login = opt_text(user, "username", path)
    if login is None:
        return None
    is_bot = bool(opt_bool(user, "bot", path)) or login.endswith("_bot") or "[bot]" in login
    return Person(login=login, external_id=ident(user, "id", path), is_bot=is_bot)


def _state(raw: str) -> str:
    if raw == "merged":
        return "merged"
    if raw in ("closed", "locked"):
        return "closed"
    if raw in ("opened", "open", "reopened"):
        return "open"
    raise WrongShape(f"merge request state {raw[:20]!r} is not known")


def merge_request_facts(mr: Json, path: str, author: Person | None) -> PullRequestFacts:
    state = _state(text(mr, "state", path))
    updated = opt_timestamp(mr, "updated_at", path)
    draft = bool(opt_bool(mr, "draft", path)) or bool(opt_bool(mr, "work_in_progress", path))
    last_commit = opt_obj(mr, "last_commit", path) or {}
    merged_at = opt_timestamp(mr, "merged_at", path)
    if state == "merged" and merged_at is None:
        merged_at = updated
    closed_at = opt_timestamp(mr, "closed_at", path)
    if state != "open" and closed_at is None:
        closed_at = updated
    return PullRequestFacts(
        number=integer(mr, "iid", path),
        title=text(mr, "title", path),
        state=state,  # type: ignore[arg-type]
        draft=draft and state == "open",
        created_at=timestamp(mr, "created_at", path),
        external_id=ident(mr, "id", path),
        body=opt_text(mr, "description", path) or "",
        url=opt_text(mr, "url", path),
        author=author,
        source_branch=opt_text(mr, "source_branch", path),
        target_branch=opt_text(mr, "target_branch", path),
        head_sha=opt_text(last_commit, "id", f"{path}.last_commit"),
        updated_at=updated,
        merged_at=merged_at,
        closed_at=closed_at,
    )


def _author(mr: Json, path: str, actor: Person | None) -> Person | None:
    """GitLab names the author by id only: the actor is the author when the ids match."""
    author_id = ident(mr, "author_id", path)
    if actor is not None and author_id is not None and actor.external_id == author_id:
        return actor
    return None


def _changed_reviewers(payload: Json) -> tuple[tuple[Person, ...], tuple[Person, ...]]:
    """Reviewers added and removed by this update (`changes.reviewers`)."""
    changes = opt_obj(payload, "changes") or {}
    reviewers = opt_obj(changes, "reviewers", "changes")
    if reviewers is None:
        return (), ()
    before = {
        p.login.lower(): p
        for p in (person(u, "changes.reviewers") for u in objects(reviewers, "previous"))
        if p
    }
    after = {
        p.login.lower(): p
        for p in (person(u, "changes.reviewers") for u in objects(reviewers, "current"))
        if p
    }
    added = tuple(p for key, p in after.items() if key not in before)
    removed = tuple(p for key, p in before.items() if key not in after)
    return added, removed


def _merge_request(payload: Json) -> tuple[str, PullRequestChange | Ignored]:
    attributes = obj(payload, "object_attributes")
    action = opt_text(attributes, "action", "object_attributes") or "update"
    actor = person(opt_obj(payload, "user"))
    path = "object_attributes"
    facts = merge_request_facts(attributes, path, _author(attributes, path, actor))
    reviewers = tuple(
        p for p in (person(u, "reviewers") for u in objects(payload, "reviewers")) if p
    )
    facts = replace(facts, requested_reviewers=reviewers)
    at = facts.updated_at or facts.created_at
    if action in APPROVALS or action in UNAPPROVALS:
        if actor is None:
            raise WrongShape("`user.username` must be a string")
        state: ReviewState = "approved" if action in APPROVALS else "dismissed"
        review = ReviewFacts(
            external_id=f"{state}:{actor.external_id or actor.login}:{at.isoformat()}",
            reviewer=actor,
            state=state,
            submitted_at=at,
        )
        change = PullRequestChange(facts, "review", at, actor=actor, review=review)
        return action, change
    known = MR_ACTIONS.get(action)
    if known is None:
        return action, Ignored(f"merge request action `{action[:60]}` is not used")
    requested: tuple[Person, ...] = ()
    if known == "edited":
        added, removed = _changed_reviewers(payload)
        changes = opt_obj(payload, "changes") or {}
        if added:
            known, requested = "review_requested", added
        elif removed:
            known, requested = "review_request_removed", removed
        elif "draft" in changes or "work_in_progress" in changes:
            known = "converted_to_draft" if facts.draft else "ready_for_review"
        elif opt_text(attributes, "oldrev", path):
            known = "synchronize"
    return action, PullRequestChange(facts, known, at, actor=actor, requested=requested)


def _note(payload: Json) -> PullRequestChange | Ignored:
    attributes = obj(payload, "object_attributes")
    path = "object_attributes"
    if opt_text(attributes, "noteable_type", path) != "MergeRequest":
        return Ignored("a comment on something else than a merge request")
    if opt_bool(attributes, "system", path):
        return Ignored("a system note")
    actor = person(opt_obj(payload, "user"))
    if actor is None:
        raise WrongShape("`user.username` must be a string")
    mr = obj(payload, "merge_request")
    facts = merge_request_facts(mr, "merge_request", _author(mr, "merge_request", actor))
    note_id = ident(attributes, "id", path)
    if note_id is None:
        raise WrongShape("`object_attributes.id` must be a number or a string")
    at = timestamp(attributes, "created_at", path)
    review = ReviewFacts(
        external_id=f"note:{note_id}", reviewer=actor, state="commented", submitted_at=at
    )
    return PullRequestChange(facts, "review", at, actor=actor, review=review)


def _push(payload: Json, received_at: datetime) -> PushFacts:
    ref = text(payload, "ref")
    branch = ref.removeprefix("refs/heads/") if ref.startswith("refs/heads/") else None
    username = opt_text(payload, "user_username")
    # Commits name their author by name and email: the pusher's when the emails match.
    email = (opt_text(payload, "user_email") or "").lower()
    commits = []
    for index, commit in enumerate(objects(payload, "commits")):
        path = f"commits[{index}]"
        author = opt_obj(commit, "author", path) or {}
        commits.append(
            CommitFacts(
                sha=text(commit, "id", path),
                message=opt_text(commit, "message", path) or "",
                author_name=opt_text(author, "name", f"{path}.author"),
                author_login=username
                if email and (opt_text(author, "email", f"{path}.author") or "").lower() == email
                else None,
                committed_at=commit_time(commit, "timestamp", path),
            )
        )
    pusher = Person(login=username, external_id=ident(payload, "user_id")) if username else None
    return PushFacts(
        ref=ref,
        branch=branch,
        pushed_at=received_at,
        pusher=pusher,
        deleted=payload.get("after") == ZERO_SHA,
        commits=tuple(commits),
    )


def parse(event: str, payload: Any, received_at: datetime) -> Parsed:
    """What a GitLab delivery of `event` says; `WrongShape` when it isn't that event's shape."""
    if not isinstance(payload, dict):
        raise WrongShape("the payload must be a JSON object")
    project = opt_obj(payload, "project")
    full_name = opt_text(project, "path_with_namespace", "project") if project else None
    if event == "Merge Request Hook":
        action, outcome = _merge_request(payload)
        return Parsed(action, full_name, outcome)
    if event == "Note Hook":
        return Parsed("note", full_name, _note(payload))
    if event == "Push Hook":
        return Parsed(None, full_name, _push(payload, received_at))
    if event == "Deployment Hook":
        status, deployments = gitlab_deployment(payload)
        return Parsed(status, full_name, deployments)
    if event == "Pipeline Hook":
        pipeline_status, jobs = gitlab_pipeline(payload)
        return Parsed(pipeline_status, full_name, jobs)
    if event == "Job Hook":
        return Parsed(None, full_name, Ignored(JOB_HOOK))
    return Parsed(None, full_name, Ignored(f"event `{event[:60]}` is not used"))
