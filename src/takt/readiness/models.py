"""Each project's readiness policy: which checks run, and which environment must come first."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from takt.core.models import Base, JSONType, TimestampMixin, VersionedMixin

# Every check readiness knows, in the order answers list them (failing ones first).
CHECKS = (
    "items_done",
    "pull_requests_approved",
    "no_open_blockers",
    "promoted_through_previous",
    "no_open_incidents",
)


class ReadinessPolicy(TimestampMixin, VersionedMixin, Base):
    """A project's choice of checks; a project without a row uses the defaults (all on, the
    previous environment on the promotion path first, incidents of sev1 and sev2 block)."""

    __tablename__ = "readiness_policies"

    project_id: Mapped[str] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    # {"items_done": {"enabled": true}, "promoted_through_previous": {"enabled": true,
    #  "required_before": {"<env id>": "<env id>" | null}}, "no_open_incidents":
    #  {"enabled": true, "min_severity": "sev2"}, …}: environments by id (a rename keeps the
    #  policy); validated by readiness.schemas and .service on the way in (readiness/policy.py).
    checks: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
