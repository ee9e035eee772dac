"""Who is calling, and with what powers: the object every service receives."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from takt.auth.models import User

Scope = Literal["read", "write", "admin"]
# Each scope includes the ones before it.
SCOPE_ORDER: dict[str, int] = {"read": 0, "write": 1, "admin": 2}
ALL_SCOPES: frozenset[str] = frozenset(SCOPE_ORDER)


@dataclass(frozen=True)
class Principal:
    user: User
    scopes: frozenset[str] = ALL_SCOPES
    # Project keys a personal access token is limited to; None means no limit.
    project_keys: frozenset[str] | None = None
    token_id: str | None = None
    via: Literal["jwt", "pat"] = "jwt"
    token_last_used_at: datetime | None = None

    @property
    def id(self) -> str:
        return self.user.id

    @property
    def is_admin(self) -> bool:
        """Instance admin: sees everything. Admin *actions* also need the admin scope."""
        return self.user.is_admin

    def has_scope(self, scope: Scope) -> bool:
        return any(SCOPE_ORDER[s] >= SCOPE_ORDER[scope] for s in self.scopes)
