"""`/auth/*` and `/users/*`: accounts, logins, tokens."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response, status
from fastapi.security import OAuth2PasswordRequestForm

from takt.auth import service
from takt.auth.deps import (
    CSRF_COOKIE,
    REFRESH_COOKIE,
    SESSION_PATH,
    ClientDep,
    CurrentPrincipal,
    SameOrigin,
    SecurityDep,
    UnlimitedPrincipal,
    WebSessionCookie,
)
from takt.auth.schemas import (
    AdminUserCreate,
    AdminUserUpdate,
    RefreshRequest,
    RegisterRequest,
    SessionLogin,
    TokenCreate,
    TokenCreated,
    TokenPair,
    TokenRead,
    UserRead,
    UserUpdate,
    WebSession,
)
from takt.auth.views import token_read, user_read, web_session_read
from takt.core.deps import DatabaseDep, PageDep, SessionDep, SettingsDep
from takt.core.errors import AppError
from takt.core.idempotency import CARRIES_SECRET
from takt.core.openapi import problems
from takt.core.pagination import Page
from takt.core.problems import Problem, problem_response

router = APIRouter(tags=["auth"])


@router.post(
    "/auth/register",
    status_code=status.HTTP_201_CREATED,
    responses=problems(403, 409, 422),
)
async def register(
    body: RegisterRequest,
    session: SessionDep,
    security: SecurityDep,
    settings: SettingsDep,
    client: ClientDep,
) -> UserRead:
    """Create an account (the first one becomes an instance admin)."""
    user = await service.register(
        session, security, body, client=client, signup_open=settings.signup_open
    )
    return user_read(user)


@router.post("/auth/token", responses=problems(401, 422, 429), dependencies=[CARRIES_SECRET])
async def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    database: DatabaseDep,
    security: SecurityDep,
    client: ClientDep,
) -> TokenPair:
    """Log in with username (or email) and password; returns an access and a refresh token."""
    # It runs its own transaction: a failed login is audited and counted though it answers 401.
    pair = await service.log_in(database, security, form.username, form.password, client=client)
    if pair is None:
        raise service.InvalidCredentials(service.INVALID_LOGIN)
    return pair


@router.post("/auth/refresh", responses=problems(401, 422), dependencies=[CARRIES_SECRET])
async def refresh(
    body: RefreshRequest, database: DatabaseDep, security: SecurityDep, client: ClientDep
) -> TokenPair:
    """Trade a refresh token for a new pair; the old one is spent."""
    # Its own transaction: revoking a family on reuse must stick although the answer is 401.
    async with database.transaction() as session:
        pair = await service.rotate_refresh_token(
            session, security, body.refresh_token, client=client
        )
    if pair is None:
        raise service.InvalidCredentials("The refresh token is invalid, spent or revoked.")
    return pair


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT, responses=problems(422))
async def logout(body: RefreshRequest, session: SessionDep, client: ClientDep) -> Response:
    """Revoke a refresh token and every token rotated from the same login."""
    await service.logout(session, body.refresh_token, client=client)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# The web app's session (docs/web-app.md). Browsers get the refresh token as an HttpOnly cookie
# that only these endpoints receive, and a CSRF token to send back with every use of it.
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}
SET_COOKIE = {
    "Set-Cookie": {
        "description": f"`{REFRESH_COOKIE}` (the refresh token; HttpOnly, SameSite=Strict, "
        f"Path={SESSION_PATH}) and `{CSRF_COOKIE}` (the CSRF token; readable by the app, "
        "SameSite=Strict, Path=/), both `Secure` unless the server is reached as localhost.",
        "schema": {"type": "string"},
    }
}
CLEAR_COOKIE = {
    "Set-Cookie": {
        "description": f"Clears `{REFRESH_COOKIE}` and `{CSRF_COOKIE}`.",
        "schema": {"type": "string"},
    }
}
_CSRF_403 = {
    "model": Problem,
    "description": f"`csrf-check-failed`: the `X-CSRF-Token` header is missing or differs from "
    f"the `{CSRF_COOKIE}` cookie, or was not issued for this session, or the `Origin` (or "
    "`Sec-Fetch-Site`) says the request comes from another site.",
}
_NO_SESSION_401 = {
    "model": Problem,
    "description": f"`no-web-session`: no `{REFRESH_COOKIE}` cookie, or its refresh token is "
    "spent, revoked or expired (the cookies are cleared). Presenting a spent one again ends the "
    "whole session: it was stolen, or two tabs refreshed at once.",
    "headers": CLEAR_COOKIE,
}


def _cookies_secure(request: Request) -> bool:
    """`Secure` cookies, except on a server reached as localhost (plain HTTP in development)."""
    return (request.url.hostname or "").lower() not in LOCAL_HOSTS


def _start_web_session(
    request: Request, response: Response, security: service.Security, pair: TokenPair
) -> WebSession:
    csrf = service.csrf_token(security, pair.refresh_token)
    secure = _cookies_secure(request)
    max_age = int(security.refresh_lifetime.total_seconds())
    response.set_cookie(
        REFRESH_COOKIE,
        pair.refresh_token,
        max_age=max_age,
        path=SESSION_PATH,
        secure=secure,
        httponly=True,
        samesite="strict",
    )
    response.set_cookie(
        CSRF_COOKIE, csrf, max_age=max_age, path="/", secure=secure, samesite="strict"
    )
    response.headers["Cache-Control"] = "no-store"
    return web_session_read(pair, csrf)


def _clear_web_session(request: Request, response: Response) -> Response:
    secure = _cookies_secure(request)
    response.delete_cookie(
        REFRESH_COOKIE, path=SESSION_PATH, secure=secure, httponly=True, samesite="strict"
    )
    response.delete_cookie(CSRF_COOKIE, path="/", secure=secure, samesite="strict")
    return response


def _session_refused(request: Request, error: AppError) -> Response:
    """The problem answer of a session that is gone, clearing its cookies on the way."""
    return _clear_web_session(request, problem_response(error, request.url.path))


@router.post(
    "/auth/session",
    summary="Sign in to the web app",
    responses={
        200: {"description": "Signed in; the refresh token is in a cookie.", "headers": SET_COOKIE},
        401: {
            "model": Problem,
            "description": "`invalid-credentials`: wrong username or password.",
        },
        403: {
            "model": Problem,
            "description": "`csrf-check-failed`: the `Origin` names another site.",
        },
        422: {"model": Problem, "description": "Validation failed."},
        429: {
            "model": Problem,
            "description": "Too many failed logins for this account or address; see `Retry-After`.",
        },
    },
    dependencies=[CARRIES_SECRET, SameOrigin],
)
async def create_session(
    body: SessionLogin,
    request: Request,
    response: Response,
    database: DatabaseDep,
    security: SecurityDep,
    client: ClientDep,
) -> WebSession:
    """Log in with username (or email) and password, as `POST /auth/token` does (same check, same
    throttle), for the web app: the answer carries the access token and a CSRF token; the
    refresh token is set as the HttpOnly cookie `takt_refresh`, sent only to
    `/api/v1/auth/session…`, and never appears in a body."""
    pair = await service.log_in(database, security, body.username, body.password, client=client)
    if pair is None:
        raise service.InvalidCredentials(service.INVALID_LOGIN)
    return _start_web_session(request, response, security, pair)


@router.post(
    "/auth/session/refresh",
    summary="Refresh the web session",
    response_model=WebSession,
    responses={
        200: {
            "description": "A new access token; the refresh token was rotated (new cookies).",
            "headers": SET_COOKIE,
        },
        401: _NO_SESSION_401,
        403: _CSRF_403,
    },
    dependencies=[CARRIES_SECRET],
)
async def refresh_session(
    request: Request,
    response: Response,
    refresh: WebSessionCookie,
    database: DatabaseDep,
    security: SecurityDep,
    client: ClientDep,
) -> Response | WebSession:
    """Trade the session cookie for a new access token, as `POST /auth/refresh` does: the refresh
    token in `takt_refresh` is spent and a new one set. Needs `X-CSRF-Token` (the `takt_csrf`
    cookie's value) and, when the browser sends `Origin`, this server's own origin."""
    if refresh is None:
        return _session_refused(request, service.NoWebSession("Not signed in."))
    # Its own transaction: revoking a family on reuse must stick although the answer is 401.
    async with database.transaction() as session:
        pair = await service.rotate_refresh_token(session, security, refresh, client=client)
    if pair is None:
        ended = service.NoWebSession("The session was spent, revoked or expired; sign in again.")
        return _session_refused(request, ended)
    return _start_web_session(request, response, security, pair)


@router.delete(
    "/auth/session",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Sign out of the web app",
    responses={
        204: {
            "description": "Signed out (also when there was no session).",
            "headers": CLEAR_COOKIE,
        },
        403: _CSRF_403,
    },
)
async def delete_session(
    request: Request, refresh: WebSessionCookie, session: SessionDep, client: ClientDep
) -> Response:
    """Revoke the session's refresh token (and every token rotated from the same sign-in) and
    clear both cookies. Needs `X-CSRF-Token` when the session cookie is sent; without one there
    is nothing to revoke and the answer is 204 all the same."""
    if refresh is not None:
        await service.logout(session, refresh, client=client)
    return _clear_web_session(request, Response(status_code=status.HTTP_204_NO_CONTENT))


@router.post(
    "/auth/session/logout-everywhere",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Sign out everywhere",
    responses={
        204: {"description": "Every sign-in of yours is revoked.", "headers": CLEAR_COOKIE},
        401: _NO_SESSION_401,
        403: _CSRF_403,
    },
)
async def logout_everywhere(
    request: Request, refresh: WebSessionCookie, session: SessionDep, client: ClientDep
) -> Response:
    """End every session of yours: the refresh tokens of all your sign-ins (web sessions and
    `/auth/token` logins, this one included) are revoked and this browser's cookies cleared.
    Personal access tokens stay (revoke them at `DELETE /users/me/tokens/{id}`); access tokens
    already issued expire within their 15 minutes. Needs `X-CSRF-Token`."""
    if refresh is None:
        return _session_refused(request, service.NoWebSession("Not signed in."))
    if await service.log_out_everywhere(session, refresh, client=client) is None:
        ended = service.NoWebSession("The session was spent, revoked or expired; sign in again.")
        return _session_refused(request, ended)
    return _clear_web_session(request, Response(status_code=status.HTTP_204_NO_CONTENT))


@router.get("/users/me", responses=problems(401))
async def get_me(principal: CurrentPrincipal) -> UserRead:
    """Your own account."""
    return user_read(principal.user)


@router.patch("/users/me", responses=problems(401, 403, 409, 422))
async def update_me(
    body: UserUpdate,
    principal: UnlimitedPrincipal,
    session: SessionDep,
    security: SecurityDep,
    client: ClientDep,
) -> UserRead:
    """Change your display name, email or password (not with a project-limited token).
    A new password logs out every other session of yours."""
    return user_read(await service.update_me(session, security, principal, body, client=client))


@router.post("/users", status_code=status.HTTP_201_CREATED, responses=problems(401, 403, 409, 422))
async def create_user(
    body: AdminUserCreate,
    principal: CurrentPrincipal,
    session: SessionDep,
    security: SecurityDep,
    client: ClientDep,
) -> UserRead:
    """Create an account for someone (instance admins only)."""
    user = await service.create_user(session, security, principal, body, client=client)
    return user_read(user)


@router.patch("/users/{user_id}", responses=problems(401, 403, 404, 412, 422))
async def update_user(
    user_id: Annotated[str, Path(max_length=36, description="The user's id.")],
    body: AdminUserUpdate,
    principal: CurrentPrincipal,
    session: SessionDep,
    security: SecurityDep,
    client: ClientDep,
) -> UserRead:
    """Disable or re-enable an account (instance admins only); disabling revokes its tokens."""
    user = await service.update_user(session, security, principal, user_id, body, client=client)
    return user_read(user)


@router.get("/users/me/tokens", responses=problems(400, 401, 403))
async def list_tokens(
    principal: UnlimitedPrincipal,
    session: SessionDep,
    page: PageDep,
) -> Page[TokenRead]:
    """Your personal access tokens that are not revoked (never their secrets); not with a
    project-limited token."""
    rows, next_cursor = await service.list_tokens(session, principal, page=page)
    return Page[TokenRead](data=[token_read(p) for p in rows], next_cursor=next_cursor)


@router.post(
    "/users/me/tokens",
    status_code=status.HTTP_201_CREATED,
    responses=problems(401, 403, 422),
    dependencies=[CARRIES_SECRET],
)
async def create_token(
    body: TokenCreate,
    principal: CurrentPrincipal,
    session: SessionDep,
    security: SecurityDep,
    client: ClientDep,
) -> TokenCreated:
    """Create a personal access token; its secret is in this response only."""
    pat, secret = await service.create_pat(session, security, principal, body, client=client)
    return TokenCreated(**token_read(pat).model_dump(), token=secret)


@router.delete(
    "/users/me/tokens/{token_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problems(401, 403, 404),
)
async def revoke_token(
    token_id: str,
    principal: CurrentPrincipal,
    session: SessionDep,
    security: SecurityDep,
    client: ClientDep,
) -> Response:
    """Revoke one of your personal access tokens."""
    await service.revoke_pat(session, security, principal, token_id, client=client)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
