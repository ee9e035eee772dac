"""Who is calling: the one place a bearer token becomes a Principal (with scope and rate checks)."""

from __future__ import annotations

import hmac
from dataclasses import replace
from datetime import datetime
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Cookie, Depends, Header, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession

from takt.auth import repository as repo
from takt.auth.principal import Principal
from takt.auth.service import (
    CsrfCheckFailed,
    Security,
    csrf_token_valid,
    pat_needs_touch,
    resolve_bearer,
)
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


async def _authenticate(session: AsyncSession, security: Security, token: str) -> Principal:
    """Step 1, who: the principal the bearer token stands for, or 401. A token seen in the last
    moments comes from this worker's principal cache without a query; any other is resolved
    (access token or personal access token) and cached until its entry or the token expires."""
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
    return principal


async def _rate_limit(
    request: Request, security: Security, settings: Settings, principal: Principal
) -> None:
    """Step 2, how often: count the request against the caller's budget per minute (each
    personal access token has its own; access tokens share their user's), or 429 with
    `Retry-After`. The `RateLimit-*` headers go on whatever response leaves."""
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


def _needs_touch(principal: Principal, now: datetime) -> bool:
    return (
        principal.via == "pat"
        and bool(principal.token_id)
        and pat_needs_touch(principal.token_last_used_at, now)
    )


async def _touch_token(
    request: Request,
    session: AsyncSession,
    database: Database,
    security: Security,
    principal: Principal,
    token: str,
) -> Principal:
    """Step 3, when last used: a personal access token's `last_used_at` is written at most once
    per `LAST_USED_RESOLUTION`, so most requests write nothing. Answers the principal as it is
    now (and caches it), so the next request doesn't write again."""
    now = utcnow()
    token_id = principal.token_id
    if token_id is None or not _needs_touch(principal, now):
        return principal
    if request.method in SAFE_METHODS:
        # The request's own session is read-only; record the use in a short write of its own.
        async with database.transaction() as write:
            await repo.touch_pat(write, token_id, now)
    else:
        await repo.touch_pat(session, token_id, now)
    principal = replace(principal, token_last_used_at=now)
    security.principals.replace(security.principals.key(token), principal)
    return principal


async def get_principal(
    request: Request,
    session: SessionDep,
    token: Annotated[str | None, Depends(bearer_scheme)],
) -> Principal:
    """The caller: authenticated, within its rate limit, allowed this method by its token's
    scope, and with its personal access token's use recorded."""
    # The process-wide objects come straight from the app rather than as dependencies of their
    # own: this runs on every request, and each dependency costs FastAPI a resolution step.
    state = request.app.state
    security: Security = state.security
    if not token:
        raise Unauthorized("Send `Authorization: Bearer <token>`.")
    principal = await _authenticate(session, security, token)
    await _rate_limit(request, security, state.settings, principal)
    if request.method not in SAFE_METHODS and not principal.has_scope("write"):
        raise Forbidden("This token has the read scope only.")
    return await _touch_token(request, session, state.db, security, principal, token)


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def _bearer_token(request: Request) -> str | None:
    """The token of `Authorization: Bearer <token>`, read as `bearer_scheme` reads it."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token if scheme.lower() == "bearer" and token else None


async def cached_principal(request: Request) -> Principal | None:
    """`get_principal` for a direct read (takt.core.direct), when it needs no database: the
    caller from this worker's principal cache, counted against its rate limit (or 429).
    None, with nothing counted, when the framework's path must answer instead: no bearer
    token, a token not cached yet, a personal access token due its `last_used_at` write, or a
    token limited to projects (their visibility statement takes a list; it is not direct)."""
    token = _bearer_token(request)
    if token is None:
        return None
    state = request.app.state
    security: Security = state.security
    principal = security.principals.get(security.principals.key(token))
    if principal is None or principal.project_keys is not None:
        return None
    if _needs_touch(principal, utcnow()):
        return None
    await _rate_limit(request, security, state.settings, principal)
    return principal


async def get_unlimited_principal(principal: CurrentPrincipal) -> Principal:
    """The caller, for acts on the account itself (its profile, its token list): outside every
    project, so a project-limited token is refused (403 `token-limited`)."""
    principal.require_unlimited("Managing the account")
    return principal


UnlimitedPrincipal = Annotated[Principal, Depends(get_unlimited_principal)]


# The web app's session (docs/web-app.md): the refresh token lives in an HttpOnly cookie sent only
# to the session endpoints, and a CSRF token the app's script reads from a cookie of its own and
# sends back as a header (signed double submit, bound to the refresh token).
REFRESH_COOKIE = "takt_refresh"
CSRF_COOKIE = "takt_csrf"
CSRF_HEADER = "X-CSRF-Token"
SESSION_PATH = "/api/v1/auth/session"
MAX_CSRF_LENGTH = 200

RefreshCookie = Annotated[
    str | None,
    Cookie(
        alias=REFRESH_COOKIE,
        max_length=256,
        description="The web session's refresh token, set by `POST /auth/session` (HttpOnly: "
        "the browser sends it, no script can read it).",
    ),
]
CsrfCookie = Annotated[
    str | None,
    Cookie(
        alias=CSRF_COOKIE,
        max_length=MAX_CSRF_LENGTH,
        description="The session's CSRF token, set next to `takt_refresh` (readable by the app).",
    ),
]
CsrfHeader = Annotated[
    str | None,
    Header(
        alias=CSRF_HEADER,
        max_length=MAX_CSRF_LENGTH,
        description="The value of the `takt_csrf` cookie (or the `csrf_token` of the last "
        "session answer); required whenever the `takt_refresh` cookie is sent.",
    ),
]


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def check_same_origin(request: Request) -> None:
    """403 unless the request may come from Takt's own pages: an `Origin` header, when there is
    one, names this server (the origin the request was sent to, or `TAKT_PUBLIC_URL`'s), and
    the browser doesn't call it a request from another site (`Sec-Fetch-Site`)."""
    origin = request.headers.get("origin")
    if origin is not None:
        settings: Settings = request.app.state.settings
        own = {_origin(str(request.base_url)), _origin(settings.public_url)}
        if origin.lower() not in own:
            raise CsrfCheckFailed(f"Requests from {origin[:100]} can't use the web session.")
    if request.headers.get("sec-fetch-site") in ("cross-site", "same-site"):
        raise CsrfCheckFailed("The browser says this request comes from another site.")


async def get_web_session(
    request: Request,
    refresh: RefreshCookie = None,
    csrf_cookie: CsrfCookie = None,
    csrf_header: CsrfHeader = None,
) -> str | None:
    """The refresh token of the caller's web session, once the request has shown it comes from
    the web app itself (`check_same_origin`, and an `X-CSRF-Token` header equal to the
    `takt_csrf` cookie and made for this refresh token), or 403. None without the session
    cookie: there is nothing a forged request could use."""
    if refresh is None:
        return None
    check_same_origin(request)
    security: Security = request.app.state.security
    if not csrf_header or not csrf_cookie:
        raise CsrfCheckFailed(f"Send the `{CSRF_COOKIE}` cookie's value as `{CSRF_HEADER}`.")
    if not hmac.compare_digest(csrf_header.encode(), csrf_cookie.encode()):
        raise CsrfCheckFailed(f"`{CSRF_HEADER}` does not match the `{CSRF_COOKIE}` cookie.")
    if not csrf_token_valid(security, refresh, csrf_header):
        raise CsrfCheckFailed("The CSRF token was not issued for this session; sign in again.")
    return refresh


WebSessionCookie = Annotated[str | None, Depends(get_web_session)]
SameOrigin = Depends(check_same_origin)
