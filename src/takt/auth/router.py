"""`/auth/*` and `/users/*`: accounts, logins, tokens."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response, status
from fastapi.security import OAuth2PasswordRequestForm

from takt.auth import service
from takt.auth.deps import ClientDep, CurrentPrincipal, SecurityDep, UnlimitedPrincipal
from takt.auth.schemas import (
    AdminUserCreate,
    AdminUserUpdate,
    RefreshRequest,
    RegisterRequest,
    TokenCreate,
    TokenCreated,
    TokenPair,
    TokenRead,
    UserRead,
    UserUpdate,
)
from takt.auth.views import token_read, user_read
from takt.core.deps import DatabaseDep, PageDep, SessionDep, SettingsDep
from takt.core.idempotency import CARRIES_SECRET
from takt.core.openapi import problems
from takt.core.pagination import Page

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
