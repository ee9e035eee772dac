"""Record audit entries in the caller's transaction (or, for failures, in one of their own)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from takt.audit.models import AuditEntry
from takt.core.logging import request_id_var


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
