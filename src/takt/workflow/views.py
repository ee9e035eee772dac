"""Workflow rows to the API's response shapes."""

from __future__ import annotations

from takt.workflow.models import Label, Status
from takt.workflow.schemas import LabelRead, StatusRead


def status_read(status: Status) -> StatusRead:
    return StatusRead(
        id=status.id,
        name=status.name,
        category=status.category,
        position=status.position,
        wip_limit=status.wip_limit,
    )


def label_read(label: Label) -> LabelRead:
    return LabelRead(id=label.id, name=label.name, color=label.color)
