"""Identity rules: accounts, logins, token rotation, personal access tokens."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from takt.audit.service import ClientContext
from takt.audit.service import record as audit
from takt.auth import repository as repo
from takt.auth.cache import PrincipalCache, forget_user_after_commit
from takt.auth.models import PersonalAccessToken, RefreshToken, User
from takt.auth.principal import ALL_SCOPES, Principal
from takt.auth.schemas import (
    AdminUserCreate,
    RegisterRequest,
    TokenCreate,
    TokenPair,
    UserUpdate,
)
from takt.core.errors import (
    Conflict,
    Forbidden,
    NotFound,
    RateLimited,
    Unauthorized,
    ValidationFailed,
)
from takt.core.ratelimit import CounterStore
from takt.core.security import (
    AccessTokens,
    Passwords,
    TokenError,
    display_prefix,
    hash_secret,
    is_well_formed_pat,
    new_personal_access_token,
    new_refresh_token,
)
from takt.core.time import utcnow

# Touching last_used_at on every request would turn reads into writes.
LAST_USED_RESOLUTION = timedelta(minutes=1)
INVALID_LOGIN = "Incorrect username or password."


class SignupClosed(Forbidden):
    """Open registration is off on this server (`TAKT_ALLOW_SIGNUP=false`). Ask an admin for an
    account."""

    code = "signup-closed"
    title = "Sign-up is closed"


class AccountExists(Conflict):
    """That username or email is already registered. Pick another or log in."""

    code = "account-exists"
    title = "Account exists"


class InvalidCredentials(Unauthorized):
    """The username or password is wrong, or the token is invalid, expired or revoked. Log in
    again at `POST /api/v1/auth/token`."""

    code = "invalid-credentials"
    title = "Invalid credentials"


@dataclass(frozen=True)
class Security:
    """The process-wide security tools a service call needs (built once in create_app)."""

    passwords: Passwords
    access_tokens: AccessTokens
    counters: CounterStore
    refresh_lifetime: timedelta
    pat_default_lifetime: timedelta
    login_max_failures: int
    login_window_seconds: int
    principals: PrincipalCache


async def _create_user(
    session: AsyncSession, security: Security, data: RegisterRequest, *, is_admin: bool
) -> User:
    if data.password.lower() == data.username.lower():
        raise ValidationFailed(
            "The password must not equal the username.",
            errors=[{"pointer": "/password", "message": "must not equal the username"}],
        )
    username_key, email_key = data.username.lower(), str(data.email).lower()
    taken = await repo.username_or_email_taken(session, username_key, email_key)
    if taken:
        raise AccountExists(f"That {taken} is already registered.")
    user = User(
        username=data.username,
        username_key=username_key,
        email=str(data.email),
        email_key=email_key,
        display_name=data.display_name or data.username,
        password_hash=await security.passwords.hash(data.password),
        is_admin=is_admin,
    )
    session.add(user)
    try:
        await session.flush()
    except IntegrityError as exc:  # a concurrent registration took it between check and insert
        raise AccountExists("That username or email is already registered.") from exc
    return user


async def register(
    session: AsyncSession,
    security: Security,
    data: RegisterRequest,
    *,
    client: ClientContext,
    signup_open: bool,
) -> User:
    """Open sign-up. The very first account becomes an instance admin."""
    first = await repo.count_users(session) == 0
    if not signup_open and not first:
        raise SignupClosed()
    user = await _create_user(session, security, data, is_admin=first)
    await audit(
        session,
        "user.registered",
        client=client,
        actor_id=user.id,
        actor_username=user.username,
        target_type="user",
        target_id=user.id,
        details={"is_admin": user.is_admin},
    )
    return user


async def create_user(
    session: AsyncSession,
    security: Security,
    principal: Principal,
    data: AdminUserCreate,
    *,
    client: ClientContext,
) -> User:
    """An instance admin creates an account."""
    if not principal.is_admin or not principal.has_scope("admin"):
        raise Forbidden("Only instance admins create accounts.")
    user = await _create_user(session, security, data, is_admin=data.is_admin)
    await audit(
        session,
        "user.created",
        client=client,
        actor_id=principal.id,
        actor_username=principal.user.username,
        target_type="user",
        target_id=user.id,
        details={"is_admin": user.is_admin},
    )
    return user


async def create_admin(session: AsyncSession, security: Security, data: RegisterRequest) -> User:
    """For `takt create-admin`: an instance admin created from the shell."""
    return await _create_user(session, security, data, is_admin=True)


async def authenticate(
    session: AsyncSession,
    security: Security,
    login: str,
    password: str,
    *,
    client: ClientContext,
) -> User | None:
    """The user if the password is right, else None; both outcomes are audited and the caller
    commits either way. Throttled per account and per client address."""
    account_key = f"login:account:{login.strip().lower()[:254]}"
    address_key = f"login:address:{client.address or 'unknown'}"
    for key, allowed in (
        (account_key, security.login_max_failures),
        (address_key, security.login_max_failures * 5),
    ):
        window = await security.counters.peek(key)
        if window.count >= allowed:
            raise RateLimited(
                "Too many failed logins; wait before trying again.",
                headers={"Retry-After": str(window.resets_in)},
            )
    user = await repo.find_user_by_login(session, login)
    valid = await security.passwords.verify(user.password_hash if user else None, password)
    if user is None or not valid or not user.is_active:
        for key in (account_key, address_key):
            await security.counters.hit(key, security.login_window_seconds)
        await audit(
            session,
            "login.failed",
            client=client,
            actor_id=user.id if user else None,
            actor_username=login[:64],
            details={"reason": "invalid credentials"},
        )
        return None
    await security.counters.reset(account_key)
    if security.passwords.needs_rehash(user.password_hash):
        user.password_hash = await security.passwords.hash(password)
    await audit(
        session,
        "login.succeeded",
        client=client,
        actor_id=user.id,
        actor_username=user.username,
    )
    return user


async def issue_tokens(
    session: AsyncSession, security: Security, user: User, *, family_id: str | None = None
) -> TokenPair:
    now = utcnow()
    access, expires = security.access_tokens.issue(user.id, now=now)
    refresh = new_refresh_token()
    session.add(
        RefreshToken(
            user_id=user.id,
            family_id=family_id or str(uuid.uuid4()),
            token_hash=hash_secret(refresh),
            issued_at=now,
            expires_at=now + security.refresh_lifetime,
        )
    )
    await session.flush()
    return TokenPair(
        access_token=access,
        refresh_token=refresh,
        expires_in=int((expires - now).total_seconds()),
    )


async def rotate_refresh_token(
    session: AsyncSession, security: Security, presented: str, *, client: ClientContext
) -> TokenPair | None:
    """A new pair for a live refresh token, spending it. Presenting a spent one revokes its
    whole family (it was stolen, or the client is confused): None, and the caller commits."""
    now = utcnow()
    token = await repo.get_refresh_token(session, hash_secret(presented))
    if token is None or token.revoked_at is not None or token.expires_at <= now:
        return None
    if token.spent_at is not None:
        await repo.revoke_family(session, token.family_id, now)
        await audit(
            session,
            "refresh_token.reused",
            client=client,
            actor_id=token.user_id,
            target_type="token_family",
            target_id=token.family_id,
        )
        return None
    user = await repo.get_user(session, token.user_id)
    if user is None or not user.is_active:
        return None
    token.spent_at = now
    return await issue_tokens(session, security, user, family_id=token.family_id)


async def logout(session: AsyncSession, presented: str, *, client: ClientContext) -> None:
    token = await repo.get_refresh_token(session, hash_secret(presented))
    if token is None:
        return
    await repo.revoke_family(session, token.family_id, utcnow())
    await audit(
        session,
        "logout",
        client=client,
        actor_id=token.user_id,
        target_type="token_family",
        target_id=token.family_id,
    )


async def resolve_bearer(session: AsyncSession, security: Security, bearer: str) -> Principal:
    """The principal behind an access token or a personal access token, or 401."""
    now = utcnow()
    if bearer.startswith("takt_pat_"):
        if not is_well_formed_pat(bearer):
            raise InvalidCredentials("Malformed personal access token.")
        pat = await repo.get_pat_by_hash(session, hash_secret(bearer))
        if pat is None or pat.revoked_at is not None:
            raise InvalidCredentials("Unknown or revoked personal access token.")
        if pat.expires_at is not None and pat.expires_at <= now:
            raise InvalidCredentials("This personal access token has expired.")
        user = await repo.get_user(session, pat.user_id)
        if user is None or not user.is_active:
            raise InvalidCredentials()
        return Principal.of(
            user,
            scopes=frozenset(pat.scopes),
            project_keys=frozenset(pat.project_keys) if pat.project_keys is not None else None,
            token_id=pat.id,
            via="pat",
            token_last_used_at=pat.last_used_at,
            token_expires_at=pat.expires_at,
        )
    try:
        claims = security.access_tokens.verify(bearer)
    except TokenError as exc:
        raise InvalidCredentials("Invalid or expired access token.") from exc
    user = await repo.get_user(session, claims.user_id)
    if user is None or not user.is_active:
        raise InvalidCredentials()
    return Principal.of(
        user,
        scopes=ALL_SCOPES,
        token_id=claims.token_id,
        via="jwt",
        token_expires_at=claims.expires_at,
    )


def pat_needs_touch(last_used_at: datetime | None, now: datetime) -> bool:
    return last_used_at is None or now - last_used_at >= LAST_USED_RESOLUTION


async def update_me(
    session: AsyncSession, security: Security, principal: Principal, data: UserUpdate
) -> User:
    user = await repo.get_user(session, principal.id)
    if user is None:
        raise InvalidCredentials()
    changes = data.model_dump(exclude_unset=True)
    if "email" in changes and changes["email"] is not None:
        email_key = str(changes["email"]).lower()
        if await repo.username_or_email_taken(session, None, email_key, except_id=user.id):
            raise AccountExists("That email is already registered.")
        user.email, user.email_key = str(changes["email"]), email_key
    if changes.get("display_name"):
        user.display_name = changes["display_name"]
    if changes.get("password"):
        current = changes.get("current_password") or ""
        if not await security.passwords.verify(user.password_hash, current):
            raise Forbidden("`current_password` is wrong.")
        if changes["password"].lower() == user.username.lower():
            raise Forbidden("The password must not equal the username.")
        user.password_hash = await security.passwords.hash(changes["password"])
    await session.flush()
    forget_user_after_commit(session, security.principals, user.id)
    return user


async def create_pat(
    session: AsyncSession,
    security: Security,
    principal: Principal,
    data: TokenCreate,
    *,
    client: ClientContext,
) -> tuple[PersonalAccessToken, str]:
    """A new personal access token and its secret (returned this once, stored only hashed).
    A token can't grant more than the credentials that create it."""
    if principal.via == "pat" and not principal.has_scope("admin"):
        raise Forbidden("Creating tokens with a token needs the admin scope.")
    if principal.project_keys is not None and (
        data.projects is None or not set(data.projects) <= principal.project_keys
    ):
        raise Forbidden("A project-limited token can only create tokens for its projects.")
    now = utcnow()
    secret = new_personal_access_token()
    expires_at = None
    if not data.never_expires:
        lifetime = (
            timedelta(days=data.expires_in_days)
            if data.expires_in_days
            else security.pat_default_lifetime
        )
        expires_at = now + lifetime
    pat = PersonalAccessToken(
        user_id=principal.id,
        name=data.name,
        display_prefix=display_prefix(secret),
        token_hash=hash_secret(secret),
        scopes=list(data.scopes),
        project_keys=data.projects,
        created_at=now,
        expires_at=expires_at,
    )
    session.add(pat)
    await session.flush()
    await audit(
        session,
        "token.created",
        client=client,
        actor_id=principal.id,
        actor_username=principal.user.username,
        target_type="personal_access_token",
        target_id=pat.id,
        details={"name": pat.name, "scopes": pat.scopes},
    )
    return pat, secret


async def revoke_pat(
    session: AsyncSession,
    security: Security,
    principal: Principal,
    token_id: str,
    *,
    client: ClientContext,
) -> None:
    if principal.via == "pat" and not principal.has_scope("admin"):
        raise Forbidden("Revoking tokens with a token needs the admin scope.")
    pat = await repo.get_pat(session, principal.id, token_id)
    if pat is None:
        raise NotFound("No such token.")
    pat.revoked_at = utcnow()
    forget_user_after_commit(session, security.principals, principal.id)
    await audit(
        session,
        "token.revoked",
        client=client,
        actor_id=principal.id,
        actor_username=principal.user.username,
        target_type="personal_access_token",
        target_id=pat.id,
        details={"name": pat.name},
    )
