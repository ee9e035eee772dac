"""The blockers' work the worker runs: the escalation sweep (registered by the worker)."""

from __future__ import annotations

from datetime import timedelta

from takt.blockers import service
from takt.core.jobs import JobContext, Sweep


async def escalate(context: JobContext) -> None:
    """Escalate the blockers that grew older than their project's threshold, in one
    transaction (each once, even with two sweeps at once)."""
    async with context.database.transaction() as session:
        await service.escalate_due(session)


SWEEPS: list[Sweep] = [
    Sweep(name="blockers.escalate", every=timedelta(minutes=15), run=escalate),
]
