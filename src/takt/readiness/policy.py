"""A project's readiness policy as it applies: the stored JSON (`ReadinessPolicy.checks`) or the
defaults, read into one shape the checks use.

Stored form (environments by id, so renaming one keeps the policy):
`{"items_done": {"enabled": true}, …, "promoted_through_previous": {"enabled": true,
"required_before": {"<target env id>": "<env id>" | null}}, "no_open_incidents":
{"enabled": true, "min_severity": "sev2"}}`. A check left out is on; an environment id that no
longer exists (the environment was deleted) is ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from takt.incidents.models import SEVERITIES
from takt.readiness.models import CHECKS

DEFAULT_MIN_SEVERITY = "sev2"


@dataclass(frozen=True)
class Policy:
    enabled: Mapping[str, bool]
    # Target environment id → the id of the environment that must come first (None: none must).
    required_before: Mapping[str, str | None] = field(default_factory=dict)
    min_severity: str = DEFAULT_MIN_SEVERITY

    def is_on(self, check: str) -> bool:
        return self.enabled.get(check, True)

    @property
    def blocking_severities(self) -> tuple[str, ...]:
        """The severities that block: the threshold and worse (sev1 is the worst)."""
        return SEVERITIES[: SEVERITIES.index(self.min_severity) + 1]


DEFAULT = Policy(enabled=dict.fromkeys(CHECKS, True))


def resolve(stored: Mapping[str, Any] | None) -> Policy:
    """The policy the stored JSON says (the defaults for what it leaves out or garbles)."""
    if not stored:
        return DEFAULT
    enabled = {}
    for check in CHECKS:
        settings = stored.get(check)
        enabled[check] = bool(settings.get("enabled", True)) if isinstance(settings, dict) else True
    promotion = stored.get("promoted_through_previous") or {}
    required = promotion.get("required_before") if isinstance(promotion, dict) else None
    incidents = stored.get("no_open_incidents") or {}
    severity = incidents.get("min_severity") if isinstance(incidents, dict) else None
    return Policy(
        enabled=enabled,
        required_before=dict(required) if isinstance(required, dict) else {},
        min_severity=severity if severity in SEVERITIES else DEFAULT_MIN_SEVERITY,
    )


def stored(
    enabled: Mapping[str, bool], required_before: Mapping[str, str | None], min_severity: str
) -> dict[str, Any]:
    """The JSON kept in `ReadinessPolicy.checks` for these settings."""
    checks: dict[str, Any] = {check: {"enabled": enabled[check]} for check in CHECKS}
    checks["promoted_through_previous"]["required_before"] = dict(required_before)
    checks["no_open_incidents"]["min_severity"] = min_severity
    return checks
