"""Who is calling: the one place a bearer token becomes a Principal (with scope and rate checks)."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from takt.auth import repository as repo
from takt.auth.principal import Principal
from takt.auth.service import Security, pat_needs_touch, resolve_bearer
from takt.config import Settings
from takt.core.audit import ClientContext
from takt.core.db import Database
from takt.core.deps import SAFE_METHODS, SessionDep
from takt.core.errors import Forbidden, RateLimited, Unauthorized
from takt.core.time import utcnow

RATE_WINDOW_SECONDS = 60

bearer_scheme = OAuth2PasswordBearer(
    tokenUrl="/api/v1/auth/token",
    auto_error=False,
    description="An access token from `/auth/token`, or a personal access token `takt_pat_…`.",
)


async def get_security(request: Request) -> Security:
    security: Security = request.app.state.security
    return security


async def get_client(request: Request) -> ClientContext:
    return ClientContext(address=request.client.host if request.client else None)


SecurityDep = Annotated[Security, Depends(get_security)]
ClientDep = Annotated[ClientContext, Depends(get_client)]


async def get_principal(
    request: Request,
    session: SessionDep,
    token: Annotated[str | None, Depends(bearer_scheme)],
) -> Principal:
    # The process-wide objects come straight from the app rather than as dependencies of their
    # own: this runs on every request, and each dependency costs FastAPI a resolution step.
    state = request.app.state
    database: Database = state.db
    security: Security = state.security
    settings: Settings = state.settings
    if not token:
        raise Unauthorized("Send `Authorization: Bearer <token>`.")
    cache = security.principals
    cache_key = cache.key(token)
    principal = cache.get(cache_key)
    if principal is None:
        epoch = cache.epoch
        principal = await resolve_bearer(session, security, token)
        cache.put(
            cache_key,
            principal,
            token_expires=principal.token_expires_at,
            now=utcnow(),
            epoch=epoch,
        )

    limit = settings.rate_limit_per_minute
    subject = f"pat:{principal.token_id}" if principal.via == "pat" else f"user:{principal.id}"
    window = await security.counters.hit(f"rate:{subject}", RATE_WINDOW_SECONDS)
    remaining = max(0, limit - window.count)
    rate_headers = {
        "RateLimit-Limit": str(limit),
        "RateLimit-Remaining": str(remaining),
        "RateLimit-Reset": str(window.resets_in),
        "RateLimit-Policy": f"{limit};w={RATE_WINDOW_SECONDS}",
    }
    if window.count > limit:
        raise RateLimited(
            f"More than {limit} requests a minute.",
            headers={**rate_headers, "Retry-After": str(window.resets_in)},
        )
    # Added by the request middleware to whatever response goes out, including responses a
    # route builds itself.
    request.state.extra_headers = rate_headers

    if request.method not in SAFE_METHODS and not principal.has_scope("write"):
        raise Forbidden("This token has the read scope only.")

    now = utcnow()
    if (
        principal.via == "pat"
        and principal.token_id
        and pat_needs_touch(principal.token_last_used_at, now)
    ):
        if request.method in SAFE_METHODS:
            # The request's own session is read-only; record the use in a short write of its own.
            async with database.transaction() as write:
                await repo.touch_pat(write, principal.token_id, now)
        else:
            await repo.touch_pat(session, principal.token_id, now)
        principal = replace(principal, token_last_used_at=now)
        cache.replace(cache_key, principal)
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


async def get_unlimited_principal(principal: CurrentPrincipal) -> Principal:
    """The caller, for acts on the account itself (its profile, its token list): outside every
    project, so a project-limited token is refused (403 `token-limited`)."""
    principal.require_unlimited("Managing the account")
    return principal


UnlimitedPrincipal = Annotated[Principal, Depends(get_unlimited_principal)]
