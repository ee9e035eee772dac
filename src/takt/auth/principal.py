"""Who is calling, and with what powers: the object every service receives.

A credential's limits live here and nowhere else. A personal access token may be limited to some
projects, to some scopes and to a lifetime; whatever its user may do, the token reaches no further:
- project-limited: only its projects are visible (`projects.repository.visible_to`), instance-wide
  reads are narrowed to them (`sees_all`), and instance-admin and account-level acts are refused
  (`require_instance_admin`, `require_unlimited`);
- it hands out no more than it holds (`check_grant`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from takt.auth.models import User
from takt.core.errors import Forbidden

Scope = Literal["read", "write", "admin"]
# Each scope includes the ones before it.
SCOPE_ORDER: dict[str, int] = {"read": 0, "write": 1, "admin": 2}
ALL_SCOPES: frozenset[str] = frozenset(SCOPE_ORDER)


class TokenLimited(Forbidden):
    """The personal access token used is limited (to some projects, scopes or a lifetime) and this
    request reaches past its limits: an instance-wide or account-level action, a project outside
    its list, or a new token with more scopes, more projects or a later expiry than the token
    itself. Use a credential without those limits (sign in, or a broader token)."""

    code = "token-limited"
    title = "Beyond the token's limits"


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
    # The login (refresh-token family) an access token belongs to; None for a PAT.
    session_id: str | None = None

    @property
    def username(self) -> str:
        return self.user.username

    @property
    def id(self) -> str:
        return self.user.id

    @property
    def is_admin(self) -> bool:
        """Instance admin: sees every project the credential reaches (all of them unless the
        token is project-limited). Instance-admin *actions* need `is_instance_admin`."""
        return self.user.is_admin

    @property
    def is_limited(self) -> bool:
        """A token limited to projects: it reaches nothing outside them."""
        return self.project_keys is not None

    @property
    def sees_all(self) -> bool:
        """Reads across the whole instance (every account, every project): an instance admin's
        credential that is not limited to projects."""
        return self.user.is_admin and not self.is_limited

    @property
    def is_instance_admin(self) -> bool:
        """May act on the whole instance: `sees_all` and the admin scope."""
        return self.sees_all and self.has_scope("admin")

    def require_instance_admin(self, action: str) -> None:
        """The one check of every instance-admin operation (403 otherwise)."""
        if self.is_instance_admin:
            return
        if self.user.is_admin and self.is_limited:
            raise TokenLimited(f"{action} needs a token that is not limited to projects.")
        if self.user.is_admin:
            raise Forbidden(f"{action} needs a token with the admin scope.")
        raise Forbidden(f"{action} is for instance admins.")

    def require_unlimited(self, action: str) -> None:
        """Acts outside every project (the account itself, new projects) refuse a
        project-limited token."""
        if self.is_limited:
            raise TokenLimited(f"{action} needs a token that is not limited to projects.")

    @classmethod
    def of(cls, user: User, **details: Any) -> Principal:
        """A principal for a user row (tokens resolved, the demo loader, tests)."""
        return cls(user=Account.of(user), **details)

    def has_scope(self, scope: Scope) -> bool:
        return any(SCOPE_ORDER[s] >= SCOPE_ORDER[scope] for s in self.scopes)

    def reaches_projects(self, project_keys: Iterable[str] | None) -> bool:
        """Whether everything of these projects (None: every project) is within this
        credential's projects."""
        if self.project_keys is None:
            return True
        return project_keys is not None and set(project_keys) <= self.project_keys

    def covers(
        self, scopes: Iterable[str], project_keys: Iterable[str] | None, expires_at: datetime | None
    ) -> bool:
        """Whether a token with these limits is within this credential's own."""
        own_rank = max((SCOPE_ORDER[s] for s in self.scopes), default=-1)
        if any(SCOPE_ORDER[s] > own_rank for s in scopes):
            return False
        if not self.reaches_projects(project_keys):
            return False
        ceiling = self.grant_expiry_ceiling
        return ceiling is None or (expires_at is not None and expires_at <= ceiling)

    @property
    def grant_expiry_ceiling(self) -> datetime | None:
        """The latest expiry a token made with this credential may have. A signed-in session is
        the user's full credential (its access token is short-lived by design, not a limit)."""
        return self.token_expires_at if self.via == "pat" else None

    def check_grant(
        self, scopes: Iterable[str], project_keys: Iterable[str] | None, expires_at: datetime | None
    ) -> None:
        """A credential never hands out more than it holds: no more scopes, no more projects,
        no later expiry (403 `token-limited`)."""
        if not self.covers(scopes, project_keys, expires_at):
            raise TokenLimited(
                "A token can't create a token with more scopes, more projects or a later expiry"
                " than its own."
            )
