"""Deployments' source of stand-up drafts (`takt.standups.drafts`): the deployments that shipped
a member's changes in the draft's window, failed ones first, and the failed ones whose service is
not restored yet as suggested blockers. Registered when deployments are wired
(`deployments.subscriptions`).

A deployment ships a member's changes when it shipped a commit they authored, or an item linked
to a pull request they authored (their provider logins are theirs through delivery's linked
identities, as for pull-request lines); a deployment that finished in `failure` shipped nothing,
so it is theirs when its own commit is.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from takt.core.events import parse_event
from takt.deployments import repository as repo
from takt.deployments.events import DeploymentFailed, DeploymentSucceeded
from takt.deployments.models import Deployment
from takt.standups.drafts import (
    MAX_LINES_PER_SOURCE,
    MAX_LOOKBACK,
    DraftSource,
    DraftWindow,
    SourceLine,
)

NAME = "deployments.shipped"
# Deployments started this long before the window are not looked at: a deployment's success or
# failure that late is no news for a stand-up (and the read stays on the recent index range).
STARTED_LOOKBACK = timedelta(days=90)
# The member's items a line names (the first by number).
MAX_ITEMS_PER_LINE = 20
SHORT_SHA = 7
# Why a deployment that went live failed (`deployment.failed`'s reason).
WHY = {
    "rolled_back": "rolled back",
    "hotfix": "a hotfix fixed it",
    "incident": "it caused an incident",
}


@dataclass(frozen=True)
class _Found:
    deployment: Deployment
    environment: str
    environment_type: str
    commits: int


def _in(moment: datetime | None, since: datetime, until: datetime) -> bool:
    return moment is not None and since <= moment < until


def _name(deployment: Deployment) -> str:
    """What people call it: its version, else its short commit, else its ref."""
    if deployment.release_version:
        return deployment.release_version
    if deployment.sha:
        return deployment.sha[:SHORT_SHA]
    return deployment.ref or "no version"


# Reads (the statements are in `deployments.repository`) -------------------------------------


async def _deployments(session: AsyncSession, window: DraftWindow) -> list[_Found]:
    """The member's deployments that succeeded or failed in the window, or failed in the last
    30 days and are not restored: failed ones first, then the latest; one statement."""
    rows = await repo.member_deployments(
        session,
        window.project_id,
        window.user_id,
        since=window.since,
        until=window.until,
        started_since=window.since - STARTED_LOOKBACK,
        lookback=MAX_LOOKBACK,
        limit=MAX_LINES_PER_SOURCE,
    )
    return [_Found(d, name, kind, count) for d, name, kind, count in rows]


async def _item_keys(
    session: AsyncSession, user_id: str, found: list[_Found]
) -> dict[str, list[str]]:
    """The member's items each deployment shipped, by item number; one statement."""
    return await repo.member_item_keys(
        session,
        user_id,
        [f.deployment.id for f in found],
        [f.deployment.id for f in found if f.deployment.state == "failure"],
    )


async def _events(
    session: AsyncSession, project_id: str, ids: list[str]
) -> dict[str, dict[str, tuple[str, Any]]]:
    """For each deployment, its latest `deployment.succeeded` and its first `deployment.failed`
    (the one that says why), by type: (event id, parsed data). One statement."""
    rows = await repo.subject_events(
        session, project_id, ids, [DeploymentSucceeded.event_type, DeploymentFailed.event_type]
    )
    found: dict[str, dict[str, tuple[str, Any]]] = defaultdict(dict)
    for subject_id, event_type, event_id, data in rows:
        held = found[subject_id]
        if event_type == DeploymentFailed.event_type and event_type in held:
            continue
        parsed, _ = parse_event(event_type, data or {}, None)
        held[event_type] = (event_id, parsed)
    return found


# Lines ---------------------------------------------------------------------------------------


def _detail(found: _Found, keys: list[str]) -> dict[str, Any]:
    deployment = found.deployment
    return {
        "deployment_id": deployment.id,
        "environment": found.environment,
        "environment_type": found.environment_type,
        "state": deployment.state,
        "version": deployment.release_version,
        "sha": deployment.sha,
        "url": deployment.url,
        "commits": found.commits,
        "item_keys": keys[:MAX_ITEMS_PER_LINE],
    }


def _with_others(text: str, keys: list[str]) -> str:
    """The line names its first item; the member's others it shipped follow the text."""
    others = keys[1:MAX_ITEMS_PER_LINE]
    return f"{text} with {', '.join(others)}" if others else text


def _why(found: _Found, failed: Any) -> str | None:
    """Why a deployment that went live failed, from its `deployment.failed` (or its state)."""
    reason = failed.reason if isinstance(failed, DeploymentFailed) else None
    if reason is None and found.deployment.state == "rolled_back":
        reason = "rolled_back"
    return WHY.get(reason or "")


def _lines_of(
    window: DraftWindow,
    found: _Found,
    keys: list[str],
    events: dict[str, tuple[str, Any]],
) -> list[SourceLine]:
    deployment = found.deployment
    since, until = window.since, window.until
    name, environment = _name(deployment), found.environment
    item_key = keys[0] if keys else None
    detail = _detail(found, keys)
    failed_event = events.get(DeploymentFailed.event_type)
    succeeded_event = events.get(DeploymentSucceeded.event_type)
    why = _why(found, failed_event[1] if failed_event else None)
    lines = []
    if _in(deployment.failed_at, since, until) or (
        deployment.state == "failure" and _in(deployment.finished_at, since, until)
    ):
        summary = f"deployment to {environment} failed ({name})"
        lines.append(
            SourceLine(
                section="yesterday",
                kind="deployment_failed",
                summary=_with_others(f"{summary}: {why}" if why else summary, keys),
                item_key=item_key,
                event_id=failed_event[0] if failed_event else None,
                occurred_at=deployment.failed_at or deployment.finished_at,
                detail=detail,
            )
        )
    elif _in(deployment.succeeded_at, since, until):
        lines.append(
            SourceLine(
                section="yesterday",
                kind="deployed",
                summary=_with_others(f"deployed to {environment} ({name})", keys),
                item_key=item_key,
                event_id=succeeded_event[0] if succeeded_event else None,
                occurred_at=deployment.succeeded_at,
                detail=detail,
            )
        )
    failed_at = deployment.failed_at
    if (
        failed_at is not None
        and deployment.restored_at is None
        and deployment.state != "rolled_back"
        and until - MAX_LOOKBACK <= failed_at < until
    ):
        because = f" ({why})" if why else ""
        lines.append(
            SourceLine(
                section="blockers",
                kind="deployment",
                summary=f"deployment to {environment} failed ({name}), service not restored",
                item_key=item_key,
                event_id=failed_event[0] if failed_event else None,
                occurred_at=failed_at,
                detail=detail,
                suggest=(
                    f"Deployment {name} to {environment} failed{because} on "
                    f"{failed_at:%Y-%m-%d %H:%M} UTC and service is not restored yet."
                ),
            )
        )
    return lines


async def deployment_lines(session: AsyncSession, window: DraftWindow) -> list[SourceLine]:
    """The member's deployments in the window ("yesterday": `deployment_failed` or
    `deployed`), and those failed and not restored ("blockers": `deployment`, a suggested
    blocker of the item it names): three statements."""
    found = await _deployments(session, window)
    if not found:
        return []
    keys = await _item_keys(session, window.user_id, found)
    events = await _events(session, window.project_id, [f.deployment.id for f in found])
    lines = []
    for each in found:
        deployment_id = each.deployment.id
        lines += _lines_of(window, each, keys.get(deployment_id, []), events.get(deployment_id, {}))
    return lines


SOURCE = DraftSource(NAME, deployment_lines)
