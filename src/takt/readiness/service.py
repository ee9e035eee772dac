"""Readiness: "is this commit (or are these items) ready to go to that environment?", evaluated
on demand against the project's policy; the policy itself; and the promotion timeline of an
item or a pull request.

The checks (docs/readiness.md):
- `items_done`: every item evaluated is in the done category (cancelled is not done). A commit
  with no linked item passes with nothing to check, and the reason says so.
- `pull_requests_approved`: every pull request of those items (and of the commit) is merged
  with an approving review; one closed without merging shipped nothing and is left out.
- `no_open_blockers`: no open blocker on the items.
- `promoted_through_previous`: the commit was deployed successfully to the environment before
  the target on the promotion path (or the one the policy names), or, asked by items, each item
  was shipped there by a successful deployment.
- `no_open_incidents`: no open incident in the target environment of the policy's severity
  (default sev2) or worse.
Every check reads one statement over the whole set, so an answer is a fixed number of
statements whatever the number of items.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import flag_modified

from takt.core.concurrency import check_if_match
from takt.core.errors import ValidationFailed
from takt.core.events import emit
from takt.core.time import utcnow
from takt.delivery.models import PullRequest
from takt.items.models import Item
from takt.projects.policies import ProjectAccess
from takt.projects.service import InProject
from takt.readiness import policy as policies
from takt.readiness import repository as repo
from takt.readiness.events import ReadinessPolicyUpdated
from takt.readiness.models import CHECKS
from takt.readiness.schemas import (
    MAX_ITEMS,
    BlockerRef,
    CheckDetails,
    CheckSwitch,
    DeploymentRef,
    IncidentCheck,
    IncidentRef,
    ItemRef,
    PolicyChecks,
    PromotionCheck,
    PullRequestRef,
    ReadinessPolicyWrite,
)

# A commit's items evaluated at most: more is refused (ask by `items=`), never cut silently.
MAX_REF_ITEMS = 1000
# Offending entries a reason names before "and N more" (details list them all).
NAMED_IN_REASON = 5


@dataclass(frozen=True)
class EnvironmentView:
    id: str
    name: str
    name_key: str
    type: str
    position: int


@dataclass(frozen=True)
class ItemView:
    id: str
    key: str
    title: str
    status: str
    category: str

    def ref(self) -> ItemRef:
        return ItemRef(key=self.key, title=self.title, status=self.status, category=self.category)


@dataclass(frozen=True)
class Check:
    name: str
    enabled: bool
    passed: bool | None
    reason: str
    details: CheckDetails


@dataclass(frozen=True)
class Evaluation:
    environment: str
    ref: str | None
    items: list[str]
    checks: list[Check]
    evaluated_at: datetime

    @property
    def ready(self) -> bool:
        return all(check.passed for check in self.checks if check.enabled)


@dataclass(frozen=True)
class PolicyView:
    project_key: str
    checks: PolicyChecks
    updated_at: datetime | None
    version: int


@dataclass(frozen=True)
class Stage:
    stage: str
    at: datetime | None
    environment: str | None = None
    environment_type: str | None = None
    deployment_id: str | None = None
    seconds_since_previous: int | None = None


@dataclass(frozen=True)
class Timeline:
    item_key: str | None
    pull_request_id: str | None
    stages: list[Stage]
    total_seconds: int | None


def _listing(labels: Sequence[str]) -> str:
    shown = ", ".join(labels[:NAMED_IN_REASON])
    more = len(labels) - NAMED_IN_REASON
    return f"{shown} and {more} more" if more > 0 else shown


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def _all(labels: Sequence[str], noun: str, *, past: bool = False) -> str:
    """`API-1 is` (one), `All 3 items are` (several): a passing check's reason begins so."""
    if len(labels) == 1:
        return f"{labels[0]} {'was' if past else 'is'}"
    return f"All {len(labels)} {noun}s {'were' if past else 'are'}"


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment is not None else "an unknown time"


# Environments ---------------------------------------------------------------------------------


async def _environments(session: AsyncSession, project_id: str) -> list[EnvironmentView]:
    return [EnvironmentView(*row) for row in await repo.environments_of(session, project_id)]


def _environment_named(
    environments: Sequence[EnvironmentView], name: str, pointer: str
) -> EnvironmentView:
    key = name.strip().lower()
    for environment in environments:
        if environment.name_key == key:
            return environment
    raise ValidationFailed.at(pointer, f"no environment {name!r} in this project")


def _required_before(
    policy: policies.Policy, environments: Sequence[EnvironmentView], target: EnvironmentView
) -> tuple[EnvironmentView | None, str]:
    """The environment a change must reach before `target`, or None with the reason none is
    needed: the policy's choice for `target` (an environment since deleted is ignored), else
    the one just before it on the promotion path."""
    if target.id in policy.required_before:
        chosen = policy.required_before[target.id]
        if chosen is None:
            return None, f"The readiness policy needs no environment before {target.name}."
        for environment in environments:
            if environment.id == chosen:
                return environment, ""
    index = next(i for i, e in enumerate(environments) if e.id == target.id)
    if index == 0:
        return None, (
            f"{target.name} is the first environment on the promotion path: none comes before it."
        )
    return environments[index - 1], ""


# Readiness ------------------------------------------------------------------------------------


def parse_item_keys(raw: str) -> list[str]:
    """The distinct keys of a comma-separated `items=` (upper-cased, in order), at most
    `MAX_ITEMS`."""
    keys = list(dict.fromkeys(part.strip().upper() for part in raw.split(",") if part.strip()))
    if len(keys) > MAX_ITEMS:
        raise ValidationFailed.at("/query/items", f"at most {MAX_ITEMS} items at once")
    return keys


async def _items_asked(session: AsyncSession, project_id: str, keys: list[str]) -> list[ItemView]:
    found = [ItemView(*row) for row in await repo.items_by_key(session, project_id, keys)]
    known = {item.key for item in found}
    missing = [key for key in keys if key not in known]
    if missing:
        raise ValidationFailed.at(
            "/query/items",
            f"no item {missing[0]} in this project"
            + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""),
        )
    return found


async def _items_of_ref(session: AsyncSession, project_id: str, sha: str) -> list[ItemView]:
    rows = await repo.items_of_ref(session, project_id, sha, MAX_REF_ITEMS + 1)
    if len(rows) > MAX_REF_ITEMS:
        raise ValidationFailed.at(
            "/query/ref",
            f"the commit links more than {MAX_REF_ITEMS} items; ask about them with `items=`",
        )
    return [ItemView(*row) for row in rows]


async def evaluate(
    session: AsyncSession,
    access: ProjectAccess,
    *,
    environment: str,
    ref: str | None,
    items: str | None,
) -> Evaluation:
    """Evaluate the project's checks for the commit `ref` or the comma-separated item keys
    `items` (exactly one of them) against `environment`."""
    if (ref is None) == (items is None):
        raise ValidationFailed.at(
            "/query/ref",
            "give exactly one of `ref` or `items`",
            detail="Give exactly one of "
            "`ref` (a commit SHA) or `items` (comma-separated item keys).",
        )
    project_id = access.project.id
    rows, stored = await repo.environments_and_policy(session, project_id)
    environments = [EnvironmentView(*row) for row in rows]
    target = _environment_named(environments, environment, "/query/environment")
    policy = policies.resolve(stored)
    sha = ref.lower() if ref is not None else None
    if sha is not None:
        found = await _items_of_ref(session, project_id, sha)
    else:
        found = await _items_asked(session, project_id, parse_item_keys(items or ""))
    # The blocker, promotion and incident checks read in one statement, before any runs.
    before = None
    if policy.is_on("promoted_through_previous"):
        before, _ = _required_before(policy, environments, target)
    facts = await repo.check_facts(
        session,
        project_id,
        [item.id for item in found],
        blockers=policy.is_on("no_open_blockers"),
        incidents=(target.id, policy.blocking_severities)
        if policy.is_on("no_open_incidents")
        else None,
        before=(before.id, sha) if before is not None else None,
    )
    context = _Context(session, access, policy, environments, target, sha, found, facts)
    checks = [await context.run(name) if policy.is_on(name) else _off(name) for name in CHECKS]
    failing = [c for c in checks if c.enabled and not c.passed]
    passing = [c for c in checks if c.enabled and c.passed]
    off = [c for c in checks if not c.enabled]
    return Evaluation(
        environment=target.name,
        ref=sha,
        items=[item.key for item in found],
        checks=failing + passing + off,
        evaluated_at=utcnow(),
    )


def _off(name: str) -> Check:
    return Check(name, False, None, "Off in the project's readiness policy.", CheckDetails())


@dataclass(frozen=True)
class _Context:
    """What every check of one evaluation reads."""

    session: AsyncSession
    access: ProjectAccess
    policy: policies.Policy
    environments: list[EnvironmentView]
    target: EnvironmentView
    sha: str | None
    items: list[ItemView]
    facts: repo.CheckFacts

    @property
    def item_ids(self) -> list[str]:
        return [item.id for item in self.items]

    @property
    def short(self) -> str:
        return (self.sha or "")[:12]

    async def run(self, name: str) -> Check:
        checks: dict[str, Callable[[], Any]] = {
            "items_done": self.items_done,
            "pull_requests_approved": self.pull_requests_approved,
            "no_open_blockers": self.no_open_blockers,
            "promoted_through_previous": self.promoted_through_previous,
            "no_open_incidents": self.no_open_incidents,
        }
        result: Check = await checks[name]()
        return result

    async def items_done(self) -> Check:
        name = "items_done"
        if not self.items:
            return Check(
                name,
                True,
                True,
                f"No work item is linked to commit {self.short} (by its message, a pull "
                "request or a deployment of it): there is no item to check.",
                CheckDetails(),
            )
        not_done = [item for item in self.items if item.category != "done"]
        if not not_done:
            done = f"{_all([item.key for item in self.items], 'item')} done."
            return Check(name, True, True, done, CheckDetails())
        labels = [f"{item.key} ({item.status})" for item in not_done]
        return Check(
            name,
            True,
            False,
            f"{len(not_done)} of {_plural(len(self.items), 'item')} "
            f"{'is' if len(not_done) == 1 else 'are'} not done: {_listing(labels)}.",
            CheckDetails(items=[item.ref() for item in not_done]),
        )

    async def pull_requests_approved(self) -> Check:
        name = "pull_requests_approved"
        keys = {item.id: item.key for item in self.items}
        prs: dict[str, PullRequestRef] = {}
        for (
            pr_id,
            repository,
            number,
            title,
            state,
            approved,
            url,
            item_id,
        ) in await repo.pull_requests_for(
            self.session, self.access.project.id, self.item_ids, self.sha
        ):
            pr = prs.get(pr_id)
            if pr is None:
                pr = prs[pr_id] = PullRequestRef(
                    id=pr_id,
                    repository=repository,
                    number=number,
                    title=title,
                    state=state,
                    approved=approved,
                    url=url,
                    items=[],
                )
            if item_id is not None:
                pr.items.append(keys[item_id])
        counted = [pr for pr in prs.values() if pr.state != "closed"]
        closed = len(prs) - len(counted)
        left_out = f" ({_plural(closed, 'pull request')} closed without merging left out)"
        if not counted:
            subject = f"commit {self.short} or its items" if self.sha else "these items"
            return Check(
                name,
                True,
                True,
                f"No pull request of {subject} is open or merged: there is none to check"
                + (left_out if closed else "")
                + ".",
                CheckDetails(),
            )
        wrong = [pr for pr in counted if pr.state != "merged" or not pr.approved]
        if not wrong:
            return Check(
                name,
                True,
                True,
                _all([f"{pr.repository}#{pr.number}" for pr in counted], "pull request")
                + " merged with an approving review"
                + (left_out if closed else "")
                + ".",
                CheckDetails(),
            )

        def label(pr: PullRequestRef) -> str:
            if pr.state == "merged":
                why = "merged without an approving review"
            elif pr.state == "approved":
                why = "approved, not merged"
            else:
                why = pr.state.replace("_", " ")
            return f"{pr.repository}#{pr.number} ({why})"

        return Check(
            name,
            True,
            False,
            f"{len(wrong)} of {_plural(len(counted), 'pull request')} "
            f"{'is' if len(wrong) == 1 else 'are'} not merged with an approving review: "
            f"{_listing([label(pr) for pr in wrong])}.",
            CheckDetails(pull_requests=wrong),
        )

    async def no_open_blockers(self) -> Check:
        name = "no_open_blockers"
        if not self.items:
            return Check(name, True, True, "No item, so no blocker to check.", CheckDetails())
        keys = {item.id: item.key for item in self.items}
        blockers = [
            BlockerRef(id=blocker_id, item_key=keys[item_id], reason=reason, raised_at=raised_at)
            for blocker_id, item_id, reason, raised_at in self.facts.blockers
        ]
        if not blockers:
            on = self.items[0].key if len(self.items) == 1 else f"the {len(self.items)} items"
            return Check(name, True, True, f"No open blocker on {on}.", CheckDetails())
        labels = [f"{b.item_key} ({b.reason[:80]})" for b in blockers]
        return Check(
            name,
            True,
            False,
            f"{_plural(len(blockers), 'open blocker')}: {_listing(labels)}.",
            CheckDetails(blockers=blockers),
        )

    async def promoted_through_previous(self) -> Check:
        name = "promoted_through_previous"
        before, why_none = _required_before(self.policy, self.environments, self.target)
        if before is None:
            return Check(name, True, True, why_none, CheckDetails())
        if self.sha is not None:
            found = self.facts.latest_success
            if found is None:
                return Check(
                    name,
                    True,
                    False,
                    f"Commit {self.short} has no successful deployment to {before.name}, which "
                    f"must come before {self.target.name}.",
                    CheckDetails(environment=before.name),
                )
            deployment_id, version, succeeded_at = found
            return Check(
                name,
                True,
                True,
                f"Commit {self.short} was deployed successfully to {before.name} on "
                f"{_when(succeeded_at)}" + (f" ({version})" if version else "") + ".",
                CheckDetails(
                    environment=before.name,
                    deployment=DeploymentRef(
                        id=deployment_id, version=version, succeeded_at=succeeded_at
                    ),
                ),
            )
        shipped = self.facts.shipped
        missing = [item for item in self.items if item.id not in shipped]
        if not missing:
            return Check(
                name,
                True,
                True,
                f"{_all([item.key for item in self.items], 'item', past=True)} shipped to "
                f"{before.name} by a successful deployment.",
                CheckDetails(environment=before.name),
            )
        return Check(
            name,
            True,
            False,
            f"{len(missing)} of {_plural(len(self.items), 'item')} "
            f"{'was' if len(missing) == 1 else 'were'} never shipped to {before.name} (which must "
            f"come before {self.target.name}) by a successful deployment: "
            f"{_listing([item.key for item in missing])}.",
            CheckDetails(environment=before.name, items=[item.ref() for item in missing]),
        )

    async def no_open_incidents(self) -> Check:
        name = "no_open_incidents"
        severities = self.policy.blocking_severities
        threshold = "sev1" if len(severities) == 1 else f"{self.policy.min_severity} or worse"
        incidents = [
            IncidentRef(id=i, number=number, title=title, severity=severity, opened_at=opened_at)
            for i, number, title, severity, opened_at in self.facts.incidents
        ]
        if not incidents:
            return Check(
                name,
                True,
                True,
                f"No open incident of {threshold} in {self.target.name}.",
                CheckDetails(),
            )
        labels = [f"INC-{i.number} {i.title[:80]} ({i.severity})" for i in incidents]
        return Check(
            name,
            True,
            False,
            f"{_plural(len(incidents), 'open incident')} of {threshold} in {self.target.name}: "
            f"{_listing(labels)}.",
            CheckDetails(incidents=incidents),
        )


# Policy ---------------------------------------------------------------------------------------


def _checks_read(policy: policies.Policy, environments: Sequence[EnvironmentView]) -> PolicyChecks:
    names = {e.id: e.name for e in environments}
    required: dict[str, str | None] = {}
    # In the promotion path's order, not the stored mapping's: PostgreSQL's JSONB keeps its
    # keys in an order of its own, and the body (so its ETag) must be the same whoever reads it.
    for environment in environments:
        if environment.id not in policy.required_before:
            continue
        before_id = policy.required_before[environment.id]
        if before_id is not None and before_id not in names:
            continue  # an environment since deleted
        required[environment.name] = names[before_id] if before_id is not None else None
    return PolicyChecks(
        items_done=CheckSwitch(enabled=policy.is_on("items_done")),
        pull_requests_approved=CheckSwitch(enabled=policy.is_on("pull_requests_approved")),
        no_open_blockers=CheckSwitch(enabled=policy.is_on("no_open_blockers")),
        promoted_through_previous=PromotionCheck(
            enabled=policy.is_on("promoted_through_previous"), required_before=required
        ),
        no_open_incidents=IncidentCheck(
            enabled=policy.is_on("no_open_incidents"),
            min_severity=policy.min_severity,
        ),
    )


async def get_policy(session: AsyncSession, access: ProjectAccess) -> PolicyView:
    """The project's readiness policy (the defaults while it has none)."""
    project = access.project
    row = await repo.policy_row(session, project.id)
    environments = await _environments(session, project.id)
    policy = policies.resolve(row.checks if row is not None else None)
    return PolicyView(
        project_key=project.key,
        checks=_checks_read(policy, environments),
        updated_at=row.updated_at if row is not None and row.version > 0 else None,
        version=row.version if row is not None else 0,
    )


def _pointer(name: str) -> str:
    escaped = name.replace("~", "~0").replace("/", "~1")
    return f"/checks/promoted_through_previous/required_before/{escaped}"


def _required_ids(
    body: PromotionCheck, environments: Sequence[EnvironmentView]
) -> dict[str, str | None]:
    """The policy's `required_before` by environment id; a 422 naming every wrong entry."""
    by_key = {e.name_key: e for e in environments}
    required: dict[str, str | None] = {}
    wrong: list[tuple[str, str]] = []
    for name, before in body.required_before.items():
        target = by_key.get(name.strip().lower())
        if target is None:
            wrong.append((_pointer(name), f"no environment {name!r} in this project"))
            continue
        if target.id in required:
            wrong.append((_pointer(name), f"{name!r} is listed twice (names ignore case)"))
            continue
        if before is None:
            required[target.id] = None
            continue
        chosen = by_key.get(before.strip().lower())
        if chosen is None:
            wrong.append((_pointer(name), f"no environment {before!r} in this project"))
        elif chosen.id == target.id:
            wrong.append((_pointer(name), "an environment can't come before itself"))
        else:
            required[target.id] = chosen.id
    if wrong:
        raise ValidationFailed.at_each(wrong)
    return required


async def put_policy(
    session: AsyncSession,
    access: ProjectAccess,
    body: ReadinessPolicyWrite,
    *,
    if_match: str | None,
) -> PolicyView:
    """Replace the project's readiness policy (project admins); checks left out take their
    defaults. Records `readiness_policy.updated`."""
    access.require_admin("Changing the readiness policy")
    project = access.project
    environments = await _environments(session, project.id)
    checks = body.checks
    required = _required_ids(checks.promoted_through_previous, environments)
    row = await repo.policy_for_update(session, project.id)
    check_if_match(if_match, row.version)
    enabled = {check: getattr(checks, check).enabled for check in CHECKS}
    row.checks = policies.stored(enabled, required, checks.no_open_incidents.min_severity)
    # A PUT is a write even when it sets what was there: the version moves, the event says so.
    flag_modified(row, "checks")
    await session.flush()
    shown = _checks_read(policies.resolve(row.checks), environments)
    await emit(
        session,
        ReadinessPolicyUpdated(checks=shown.model_dump(mode="json")),
        project,
        access.principal,
    )
    return PolicyView(
        project_key=project.key, checks=shown, updated_at=row.updated_at, version=row.version
    )


# Promotion timeline ---------------------------------------------------------------------------


def _timed(stages: list[Stage]) -> Timeline:
    """Each stage with the seconds since the stage reached just before it in the list (never
    negative: a stage reached earlier than the one listed before it counts 0), and the span
    from the first moment to the last."""
    timed: list[Stage] = []
    latest: datetime | None = None
    for stage in stages:
        seconds = None
        if stage.at is not None and latest is not None:
            seconds = max(0, int((stage.at - latest).total_seconds()))
        timed.append(
            Stage(
                stage.stage,
                stage.at,
                stage.environment,
                stage.environment_type,
                stage.deployment_id,
                seconds,
            )
        )
        if stage.at is not None:
            latest = stage.at
    reached = [s.at for s in stages if s.at is not None]
    total = int((max(reached) - min(reached)).total_seconds()) if len(reached) > 1 else None
    return Timeline(None, None, timed, total)


def _deployed(rows: Sequence[Any]) -> list[Stage]:
    return [
        Stage("deployed", at, environment=name, environment_type=type_, deployment_id=dep_id)
        for name, type_, dep_id, at in rows
    ]


async def item_timeline(session: AsyncSession, found: InProject[Item]) -> Timeline:
    """The item's way to production: its first commit, its pull requests' first ready, review
    and merge, and per environment the first successful deployment that shipped it."""
    item = found.child
    committed, ready, reviewed, merged = await repo.item_stages(session, item.id)
    deployed = await repo.deployed_stages(session, item.project_id, repo.ships_item(item.id))
    timeline = _timed(
        [
            Stage("committed", committed),
            Stage("pull_request_ready", ready),
            Stage("first_review", reviewed),
            Stage("merged", merged),
            *_deployed(deployed),
        ]
    )
    return Timeline(item.key, None, timeline.stages, timeline.total_seconds)


async def pull_request_timeline(session: AsyncSession, found: InProject[PullRequest]) -> Timeline:
    """The pull request's way to production: its first commit, ready, first review, merge, and
    per environment the first successful deployment that shipped its head commit (or, after
    the merge, an item it names)."""
    pr = found.child
    committed = await repo.pull_request_first_commit(session, pr)
    deployed = await repo.deployed_stages(session, pr.project_id, repo.ships_pull_request(pr))
    timeline = _timed(
        [
            Stage("committed", committed),
            Stage("pull_request_ready", pr.ready_at),
            Stage("first_review", pr.first_review_at),
            Stage("merged", pr.merged_at),
            *_deployed(deployed),
        ]
    )
    return Timeline(None, pr.id, timeline.stages, timeline.total_seconds)
