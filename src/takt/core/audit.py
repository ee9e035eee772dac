"""The audit log's write side: security-relevant acts, recorded in the caller's transaction.

Like the event log (core/events.py), every domain writes here and none owns it; the `audit`
domain serves the reads. Entries are append-only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Index, String
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from takt.core.logging import request_id_var
from takt.core.models import Base, IdMixin, JSONType, UTCDateTime
from takt.core.time import utcnow


class AuditEntry(IdMixin, Base):
    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_occurred", "occurred_at", "id"),
        Index("ix_audit_log_project", "project_id", "occurred_at", "id"),
    )

    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    action: Mapped[str] = mapped_column(String(64))
    actor_id: Mapped[str | None] = mapped_column(String(36))
    actor_username: Mapped[str | None] = mapped_column(String(64))
    project_id: Mapped[str | None] = mapped_column(String(36))
    target_type: Mapped[str | None] = mapped_column(String(32))
    target_id: Mapped[str | None] = mapped_column(String(64))
    client_address: Mapped[str | None] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(128))
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


@dataclass(frozen=True)
class ClientContext:
    """Where a request came from; routers build it, services pass it on to the audit log."""

    address: str | None = None


async def record(
    session: AsyncSession,
    action: str,
    *,
    client: ClientContext,
    actor_id: str | None = None,
    actor_username: str | None = None,
    project_id: str | None = None,
    target_type: str | None = None,
    target_id: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        action=action,
        actor_id=actor_id,
        actor_username=actor_username,
        project_id=project_id,
        target_type=target_type,
        target_id=target_id,
        client_address=client.address,
        request_id=request_id_var.get(),
        details=details or {},
    )
    session.add(entry)
    await session.flush()
    return entry


class Acting(Protocol):
    """Whoever acts: a signed-in principal (its id and username go into the entry)."""

    @property
    def id(self) -> str: ...

    @property
    def username(self) -> str: ...


async def record_by(
    session: AsyncSession,
    actor: Acting,
    action: str,
    *,
    client: ClientContext,
    project_id: str | None = None,
    target_type: str | None = None,
    target_id: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """`record` an act of a signed-in principal, named by its id and username."""
    return await record(
        session,
        action,
        client=client,
        actor_id=actor.id,
        actor_username=actor.username,
        project_id=project_id,
        target_type=target_type,
        target_id=target_id,
        details=details,
    )
