"""Who is calling, and with what powers: the object every service receives."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from takt.auth.models import User

Scope = Literal["read", "write", "admin"]
# Each scope includes the ones before it.
SCOPE_ORDER: dict[str, int] = {"read": 0, "write": 1, "admin": 2}
ALL_SCOPES: frozenset[str] = frozenset(SCOPE_ORDER)


@dataclass(frozen=True)
class Account:
    """What a request knows about its caller: a frozen copy of the user row, safe to keep between
    requests (the principal cache) and never attached to a database session. A service that
    changes the user loads the row itself."""

    id: str
    username: str
    email: str
    display_name: str
    is_admin: bool
    is_active: bool
    created_at: datetime

    @classmethod
    def of(cls, user: User) -> Account:
        return cls(
            id=user.id,
            username=user.username,
            email=user.email,
            display_name=user.display_name,
            is_admin=user.is_admin,
            is_active=user.is_active,
            created_at=user.created_at,
        )


@dataclass(frozen=True)
class Principal:
    user: Account
    scopes: frozenset[str] = ALL_SCOPES
    # Project keys a personal access token is limited to; None means no limit.
    project_keys: frozenset[str] | None = None
    token_id: str | None = None
    via: Literal["jwt", "pat"] = "jwt"
    token_last_used_at: datetime | None = None
    # When the bearer token stops being valid (None: a PAT without expiry).
    token_expires_at: datetime | None = None

    @property
    def id(self) -> str:
        return self.user.id

    @property
    def is_admin(self) -> bool:
        """Instance admin: sees everything. Admin *actions* also need the admin scope."""
        return self.user.is_admin

    @classmethod
    def of(cls, user: User, **details: Any) -> Principal:
        """A principal for a user row (tokens resolved, the demo loader, tests)."""
        return cls(user=Account.of(user), **details)

    def has_scope(self, scope: Scope) -> bool:
        return any(SCOPE_ORDER[s] >= SCOPE_ORDER[scope] for s in self.scopes)
