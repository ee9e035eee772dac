"""How blockers follow lower domains' changes, in their transactions: an item's `blocked` flag
stays set while one of its blockers is open (`takt.items.hooks`), and a deleted risk is no
longer named by the blocker promoted to it (`takt.risks.hooks`)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from takt.blockers import service
from takt.items.hooks import BlockedClearing, blocked_clearing
from takt.risks.hooks import RiskDeleting, risk_deleting


async def keep_blocked_while_open(session: AsyncSession, change: BlockedClearing) -> None:
    await service.refuse_clearing_while_open(session, change.item)


async def forget_deleted_risk(session: AsyncSession, change: RiskDeleting) -> None:
    await service.forget_risk(session, change.access, change.risk.id)


def connect() -> None:
    blocked_clearing.subscribe(keep_blocked_while_open)
    risk_deleting.subscribe(forget_deleted_risk)
