"""Where higher domains react to workflow edits, in their transaction (see `takt.core.hooks`)."""

from __future__ import annotations

from dataclasses import dataclass

from takt.core.hooks import Hook
from takt.projects.policies import ProjectAccess
from takt.workflow.models import Status


@dataclass
class StatusRetired:
    """A status is about to be deleted. Whatever is in it goes to `to_status`, which is None
    when the caller named no destination (then nothing may be in it)."""

    access: ProjectAccess
    status: Status
    to_status: Status | None
    moved_items: int = 0
    """Set by the handler that moves the status's items: how many it moved."""


@dataclass(frozen=True)
class StatusRecategorised:
    """A status changes category (`old` → `new`); what is in it changes category with it."""

    access: ProjectAccess
    status: Status
    old: str
    new: str


status_retired = Hook[StatusRetired]("workflow.status_retired", required=True)
"""Fired before the status is deleted. Required: the items in it must move (`takt.items`)."""

status_recategorised = Hook[StatusRecategorised]("workflow.status_recategorised", required=True)
"""Fired before the status's category changes. Required: the items' change of category must be
recorded (`takt.items`), or burndowns replayed from the log would disagree with the board."""
