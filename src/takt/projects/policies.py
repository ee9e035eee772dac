"""What a principal may do inside a project it can see."""

from __future__ import annotations

from dataclasses import dataclass

from takt.auth.principal import Principal
from takt.core.errors import Forbidden
from takt.projects.models import ROLE_RANK, Project


@dataclass(frozen=True)
class ProjectAccess:
    """A project the principal can see, and the principal's role in it."""

    project: Project
    principal: Principal
    member_role: str | None

    @property
    def role(self) -> str:
        """Instance admins act as project admins everywhere."""
        if self.principal.is_admin:
            return "admin"
        return self.member_role or "viewer"

    def require(self, role: str, action: str = "This action") -> None:
        if ROLE_RANK[self.role] < ROLE_RANK[role]:
            raise Forbidden(f"{action} needs the {role} role in project {self.project.key}.")
        if role == "admin" and not self.principal.has_scope("admin"):
            raise Forbidden(f"{action} needs a token with the admin scope.")

    def require_write(self) -> None:
        self.require("member", "Changing this project's work")

    def require_admin(self, action: str = "This action") -> None:
        self.require("admin", action)
