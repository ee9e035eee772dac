"""Delivery for project admins and members: link repositories (each with its own webhook
secret, shown once and rotatable), link your provider logins to your account, read pull
requests. What webhooks teach is recorded by `takt.delivery.ingest`.

A GitHub secret is used again to compute each delivery's HMAC, so it is stored sealed
(`core.crypto.SecretBox`, a key derived from TAKT_SECRET_KEY); a GitLab token is only compared
with the one a delivery presents, so only its SHA-256 is stored. No read, event or audit entry
carries either.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from takt.auth.models import User
from takt.auth.principal import Principal
from takt.config import Settings
from takt.core.audit import ClientContext
from takt.core.audit import record_by as audit_by
from takt.core.concurrency import claim
from takt.core.crypto import SecretBox
from takt.core.errors import Conflict, NotFound, ValidationFailed
from takt.core.events import emit
from takt.core.pagination import PageRequest, SortKey
from takt.core.time import utcnow
from takt.delivery import repository as repo
from takt.delivery.events import (
    RepositoryChanges,
    RepositoryLinked,
    RepositorySecretRotated,
    RepositoryUnlinked,
    RepositoryUpdated,
)
from takt.delivery.models import LinkedIdentity, PullRequest, PullRequestReviewer, Repository
from takt.delivery.schemas import PullRequestFilters, RepositoryCreate, RepositoryUpdate
from takt.items.models import Item
from takt.items.repository import get_item
from takt.projects.policies import ProjectAccess

# Where providers send a repository's deliveries, under the public URL.
HOOK_PATH = "/api/v1/hooks/{provider}/{repository_id}"
SECRET_BYTES = 32


class RepositoryAlreadyLinked(Conflict):
    """This project already links a repository of that provider with that full name. Use the
    one linked (`GET /projects/{key}/repositories`), or unlink it first."""

    code = "repository-already-linked"
    title = "Repository already linked"


class IdentityTaken(Conflict):
    """Someone else has linked this provider login to their account. A login belongs to one
    person; ask them (or an instance admin) to unlink it first."""

    code = "identity-taken"
    title = "Login already linked"


@dataclass(frozen=True)
class DeliveryConfig:
    """What delivery takes from the settings: the box that seals GitHub secrets, and the public
    URL webhook addresses are built on."""

    box: SecretBox
    public_url: str

    @classmethod
    def from_settings(cls, settings: Settings) -> DeliveryConfig:
        return cls(
            box=SecretBox(settings.resolved_secret_key()),
            public_url=settings.public_url.rstrip("/"),
        )

    def webhook_url(self, repository: Repository) -> str:
        path = HOOK_PATH.format(provider=repository.provider, repository_id=repository.id)
        return f"{self.public_url}{path}"


@dataclass(frozen=True)
class ShownReviewer:
    row: PullRequestReviewer
    user: User | None
    verdict: str | None


@dataclass(frozen=True)
class ShownPullRequest:
    """A pull request with what its answer shows besides its own row."""

    pull_request: PullRequest
    repository: Repository
    author: User | None
    reviewers: tuple[ShownReviewer, ...]
    item_keys: tuple[str, ...]


@dataclass(frozen=True)
class RepositoryContext:
    access: ProjectAccess
    repository: Repository


def new_secret() -> str:
    # Hex, not URL-safe base64: a secret starting with "-" reads as an option on a command line
    # (`replay_fixture.py --secret "$SECRET"` failed that way), and hex pastes cleanly anywhere.
    return secrets.token_hex(SECRET_BYTES)


def token_hash(token: str) -> str:
    """What is kept of a GitLab token: its SHA-256 (a random 256-bit token needs no slow hash)."""
    return hashlib.sha256(token.encode()).hexdigest()


def _set_secret(repository: Repository, secret: str, box: SecretBox) -> None:
    if repository.provider == "github":
        repository.secret_sealed, repository.secret_hash = box.seal(secret), None
    else:
        repository.secret_sealed, repository.secret_hash = None, token_hash(secret)


# Repositories -------------------------------------------------------------------------------------


async def list_repositories(
    session: AsyncSession, access: ProjectAccess, *, page: PageRequest
) -> tuple[list[Repository], str | None]:
    """One page of the project's repositories, oldest first (project admins)."""
    access.require_admin("Reading repositories")
    return await page.fetch(
        session,
        repo.repositories_of(access.project.id),
        keys=[SortKey(Repository.created_at), SortKey(Repository.id)],
        key_of=lambda r: (r.created_at, r.id),
        sort_name="repositories",
    )


def get_repository(ctx: RepositoryContext) -> Repository:
    ctx.access.require_admin("Reading repositories")
    return ctx.repository


async def _audit(
    session: AsyncSession,
    access: ProjectAccess,
    action: str,
    repository: Repository,
    client: ClientContext,
) -> None:
    await audit_by(
        session,
        access.principal,
        action,
        client=client,
        project_id=access.project.id,
        target_type="repository",
        target_id=repository.id,
        details={"provider": repository.provider, "full_name": repository.full_name},
    )


async def create_repository(
    session: AsyncSession,
    access: ProjectAccess,
    data: RepositoryCreate,
    *,
    config: DeliveryConfig,
    client: ClientContext,
) -> tuple[Repository, str]:
    """Link a repository; its webhook secret is handed out here only."""
    access.require_admin("Linking repositories")
    key = data.full_name.lower()
    if await repo.name_taken(session, access.project.id, data.provider, key):
        raise RepositoryAlreadyLinked(f"{data.full_name} is already linked to this project.")
    secret = new_secret()
    repository = Repository(
        project_id=access.project.id,
        provider=data.provider,
        full_name=data.full_name,
        full_name_key=key,
        default_branch=data.default_branch,
        created_by_id=access.principal.id,
    )
    _set_secret(repository, secret, config.box)
    session.add(repository)
    await session.flush()
    linked = RepositoryLinked(id=repository.id, provider=data.provider, full_name=data.full_name)
    await emit(session, linked, access.project, access.principal, subject=repository)
    await _audit(session, access, linked.event_type, repository, client)
    return repository, secret


async def update_repository(
    session: AsyncSession,
    ctx: RepositoryContext,
    data: RepositoryUpdate,
    *,
    if_match: str | None,
) -> Repository:
    """Change the full name (after a rename on the provider) or the default branch."""
    access, repository = ctx.access, ctx.repository
    access.require_admin("Changing repositories")
    await claim(session, repository, if_match)
    changes: dict[str, list[Any]] = {}
    if data.full_name is not None and data.full_name != repository.full_name:
        key = data.full_name.lower()
        if repository.provider == "github" and data.full_name.count("/") != 1:
            raise ValidationFailed.at("/full_name", "a GitHub repository's full name is owner/repo")
        if await repo.name_taken(
            session, access.project.id, repository.provider, key, other_than=repository.id
        ):
            raise RepositoryAlreadyLinked(f"{data.full_name} is already linked to this project.")
        changes["full_name"] = [repository.full_name, data.full_name]
        repository.full_name, repository.full_name_key = data.full_name, key
    if data.default_branch is not None and data.default_branch != repository.default_branch:
        changes["default_branch"] = [repository.default_branch, data.default_branch]
        repository.default_branch = data.default_branch
    if changes:
        repository.updated_at = utcnow()
        await session.flush()
        await emit(
            session,
            RepositoryUpdated(id=repository.id, full_name=repository.full_name),
            access.project,
            access.principal,
            RepositoryChanges.model_validate(changes),
            subject=repository,
        )
    return repository


async def rotate_secret(
    session: AsyncSession,
    ctx: RepositoryContext,
    *,
    if_match: str | None,
    config: DeliveryConfig,
    client: ClientContext,
) -> tuple[Repository, str]:
    """A new webhook secret (handed out here only); the old one stops working at once."""
    access, repository = ctx.access, ctx.repository
    access.require_admin("Rotating a repository's secret")
    await claim(session, repository, if_match)
    secret = new_secret()
    _set_secret(repository, secret, config.box)
    repository.secret_rotated_at = repository.updated_at = utcnow()
    await session.flush()
    rotated = RepositorySecretRotated(id=repository.id, full_name=repository.full_name)
    await emit(session, rotated, access.project, access.principal, subject=repository)
    await _audit(session, access, rotated.event_type, repository, client)
    return repository, secret


async def delete_repository(
    session: AsyncSession, ctx: RepositoryContext, *, if_match: str | None, client: ClientContext
) -> None:
    """Unlink a repository: its pull requests, commits, links and inbox go with it."""
    access, repository = ctx.access, ctx.repository
    access.require_admin("Unlinking repositories")
    await claim(session, repository, if_match)
    unlinked = RepositoryUnlinked(
        id=repository.id, provider=repository.provider, full_name=repository.full_name
    )
    await emit(session, unlinked, access.project, access.principal, subject=repository)
    await _audit(session, access, unlinked.event_type, repository, client)
    await session.delete(repository)
    await session.flush()


# Linked identities --------------------------------------------------------------------------------


async def list_identities(session: AsyncSession, principal: Principal) -> list[LinkedIdentity]:
    return await repo.identities_of(session, principal.id)


async def link_identity(
    session: AsyncSession, principal: Principal, provider: str, login: str
) -> LinkedIdentity:
    """Say that `login` on `provider` is you (replacing the login you had linked there): pull
    requests, reviews and commits by it, past and future, become yours."""
    key = login.lower()
    owner = await repo.identity_owner(session, provider, key)
    if owner is not None and owner != principal.id:
        raise IdentityTaken(f"The {provider} login {login} is linked to another account.")
    identity = await repo.get_identity(session, principal.id, provider)
    if identity is not None and identity.login_key != key:
        await repo.relink_login(session, provider, identity.login_key, None)
    if identity is None:
        identity = LinkedIdentity(user_id=principal.id, provider=provider)
        session.add(identity)
    identity.login, identity.login_key, identity.created_at = login, key, utcnow()
    await session.flush()
    await repo.relink_login(session, provider, key, principal.id)
    return identity


async def unlink_identity(session: AsyncSession, principal: Principal, provider: str) -> None:
    identity = await repo.get_identity(session, principal.id, provider)
    if identity is None:
        raise NotFound(f"You have no {provider} login linked.")
    await repo.relink_login(session, provider, identity.login_key, None)
    await session.delete(identity)
    await session.flush()


# Pull requests ------------------------------------------------------------------------------------


async def list_pull_requests(
    session: AsyncSession,
    access: ProjectAccess,
    *,
    filters: PullRequestFilters,
    page: PageRequest,
) -> tuple[list[ShownPullRequest], str | None]:
    """One page of the project's pull requests, latest opened first. `item` names an item of
    the project (422 otherwise)."""
    item_id = None
    if filters.item is not None:
        item = await get_item(session, access.project.id, filters.item.upper())
        if item is None:
            raise ValidationFailed.at(
                "/item", "unknown item", detail=f"No item {filters.item} in this project."
            )
        item_id = item.id
    waiting_before = None
    if filters.waiting_for_review_hours is not None:
        waiting_before = utcnow() - timedelta(hours=filters.waiting_for_review_hours)
    stmt = repo.pull_requests_of(
        access.project.id,
        state=filters.state,
        author=filters.author,
        reviewer=filters.reviewer,
        item_id=item_id,
        waiting_before=waiting_before,
        repository_id=filters.repository_id,
    )
    return await _page(session, stmt, page)


async def list_item_pull_requests(
    session: AsyncSession, item: Item, *, page: PageRequest
) -> tuple[list[ShownPullRequest], str | None]:
    """One page of the pull requests that name the item, latest opened first."""
    return await _page(session, repo.pull_requests_of_item(item.id), page)


async def _page(
    session: AsyncSession, stmt: Any, page: PageRequest
) -> tuple[list[ShownPullRequest], str | None]:
    rows, next_cursor = await page.fetch(
        session,
        stmt,
        keys=[
            SortKey(PullRequest.opened_at, descending=True),
            SortKey(PullRequest.id, descending=True),
        ],
        key_of=lambda pr: (pr.opened_at, pr.id),
        sort_name="pull-requests",
    )
    return await shown(session, rows), next_cursor


async def shown(session: AsyncSession, pull_requests: list[PullRequest]) -> list[ShownPullRequest]:
    """What a page of pull requests shows, read for the whole page at once (five statements,
    whatever its size)."""
    repositories, users, reviewers, verdicts, keys = await repo.details_of(session, pull_requests)
    return [
        ShownPullRequest(
            pull_request=pr,
            repository=repositories[pr.repository_id],
            author=users.get(pr.author_user_id or ""),
            reviewers=tuple(
                ShownReviewer(r, users.get(r.user_id or ""), verdicts[pr.id].get(r.login_key))
                for r in reviewers[pr.id]
            ),
            item_keys=tuple(keys[pr.id]),
        )
        for pr in pull_requests
    ]
