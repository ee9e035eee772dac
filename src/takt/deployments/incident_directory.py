"""What deployments asks of incidents, answered by `takt.incidents` at start-up: a port, not an
import (docs/architecture.md, *Reading a higher domain: a port*).

A deployment an incident was caused by stays unrestored while that incident is open
(docs/incidents.md): its recovery ends when the last such incident is resolved, which incidents'
service records. A hotfix or rollback of the deployment that succeeds meanwhile ends it only if
no incident it caused is open then; otherwise the order of the two reports would decide the
recovery time. Deployments sit below incidents, so they ask here. Asking before anything was
provided raises `HookNotConnected`, as a required hook does.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from takt.core.hooks import HookNotConnected


class IncidentDirectory(Protocol):
    """The incident lookups deployments needs."""

    async def any_open_caused_by(self, session: AsyncSession, deployment_id: str) -> bool:
        """Whether an incident caused by the deployment is open (one statement)."""


_provided: list[IncidentDirectory] = []


def provide(directory: IncidentDirectory) -> None:
    """Answer deployments' incident lookups with `directory` (the wiring does this; again
    replaces)."""
    _provided[:] = [directory]


def directory() -> IncidentDirectory:
    """The provided directory; `HookNotConnected` if the start-up wiring did not run."""
    if not _provided:
        raise HookNotConnected(
            "No incident directory was provided to takt.deployments: call takt.wiring.connect() "
            "at start-up."
        )
    return _provided[0]
