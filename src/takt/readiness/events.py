"""The events of readiness: the catalogue's `readiness_policy.*`."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field

from takt.core.events import EventData


class ReadinessPolicyUpdated(EventData):
    """The project's readiness checks were changed."""

    event_type: ClassVar[str] = "readiness_policy.updated"
    checks: dict[str, Any] = Field(description="The policy after the change.")
