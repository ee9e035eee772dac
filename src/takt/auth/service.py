"""Identity rules: accounts, logins, token rotation, personal access tokens."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from takt.auth import repository as repo
from takt.auth.cache import PrincipalCache, forget_user_after_commit
from takt.auth.models import PersonalAccessToken, RefreshToken, User
from takt.auth.principal import ALL_SCOPES, Principal
from takt.auth.schemas import (
    AdminUserCreate,
    AdminUserUpdate,
    RegisterRequest,
    TokenCreate,
    TokenPair,
    UserUpdate,
)
from takt.core.audit import ClientContext
from takt.core.audit import record as audit
from takt.core.audit import record_by as audit_by
from takt.core.concurrency import claim, claim_all
from takt.core.db import Database
from takt.core.errors import (
    Conflict,
    Forbidden,
    NotFound,
    RateLimited,
    Unauthorized,
    ValidationFailed,
)
from takt.core.locks import hold_transaction_lock
from takt.core.pagination import PageRequest, SortKey
from takt.core.ratelimit import CounterStore, Window
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


class NoWebSession(Unauthorized):
    """The web app's session cookie (`takt_refresh`) is missing, or its refresh token is spent,
    revoked or expired. Sign in again at `POST /api/v1/auth/session`."""

    code = "no-web-session"
    title = "Not signed in"


class CsrfCheckFailed(Forbidden):
    """A request to the web app's session endpoints must come from Takt's own pages: its
    `X-CSRF-Token` header must equal the `takt_csrf` cookie (which is bound to the session), and
    an `Origin` header, when sent, must be this server's own origin. Reload the app; a script on
    another site can't make these requests."""

    code = "csrf-check-failed"
    title = "Cross-site request refused"


@dataclass(frozen=True)
class Security:
    """The process-wide security tools a service call needs (built once in create_app)."""

    passwords: Passwords
    access_tokens: AccessTokens
    counters: CounterStore
    # Failed-login counts, shared by every worker process (Redis, or else the database).
    login_counters: CounterStore
    refresh_lifetime: timedelta
    pat_default_lifetime: timedelta
    login_max_failures: int
    login_window_seconds: int
    principals: PrincipalCache
    # Signs the web app's CSRF tokens (derived from the secret key; see `csrf_token`).
    csrf_key: bytes


def password_problem(username: str, password: str) -> str | None:
    """What is wrong with `password` for `username` beyond the schema's length rule, or None.
    `takt create-admin` asks it too, before it asks for the password again."""
    if password.lower() == username.lower():
        return "must not equal the username"
    return None


async def _create_user(
    session: AsyncSession, security: Security, data: RegisterRequest, *, is_admin: bool
) -> User:
    if problem := password_problem(data.username, data.password):
        raise ValidationFailed.at("/password", problem, detail=f"The password {problem}.")
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
    """Open sign-up. The very first account becomes an instance admin: while there is no user,
    registrations take a lock and count again under it, so of concurrent first registrations
    exactly one sees an empty table (`hold_transaction_lock`)."""
    first = await repo.count_users(session) == 0
    if first:
        await hold_transaction_lock(session, "takt:first-account")
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
    principal.require_instance_admin("Creating accounts")
    user = await _create_user(session, security, data, is_admin=data.is_admin)
    await audit_by(
        session,
        principal,
        "user.created",
        client=client,
        target_type="user",
        target_id=user.id,
        details={"is_admin": user.is_admin},
    )
    return user


async def create_admin(session: AsyncSession, security: Security, data: RegisterRequest) -> User:
    """For `takt create-admin`: an instance admin created from the shell."""
    return await _create_user(session, security, data, is_admin=True)


def _login_keys(user_id: str | None, login: str, client: ClientContext) -> tuple[str, str]:
    """The counters an attempt hits: the account's (by its id, so its username and its email
    share one count) and the client address's. A login that names no account is counted by the
    name typed."""
    account = user_id or f"name:{login.strip().lower()[:254]}"
    return f"login:account:{account}", f"login:address:{client.address or 'unknown'}"


def _throttled(window: Window) -> RateLimited:
    return RateLimited(
        "Too many failed logins; wait before trying again.",
        headers={"Retry-After": str(window.resets_in)},
    )


async def _admit_login(security: Security, account_key: str, address_key: str) -> None:
    """Count the attempt first, then decide on the count that hit produced (one atomic step in
    every store): of any number of concurrent attempts, at most the limit go on to the password
    check, and the rest are 429. A login that succeeds takes its count back (`log_in`)."""
    store, window = security.login_counters, security.login_window_seconds
    account = await store.hit(account_key, window)
    if account.count > security.login_max_failures:
        raise _throttled(account)
    address = await store.hit(address_key, window)
    if address.count > security.login_max_failures * 5:
        # Refused before the password was tried: not an attempt on the account.
        await store.undo(account_key)
        raise _throttled(address)


async def log_in(
    database: Database,
    security: Security,
    login: str,
    password: str,
    *,
    client: ClientContext,
) -> TokenPair | None:
    """A token pair if the password is right, else None (401); 429 when the account or the
    address has failed too often. Throttled per account and per client address, the attempt
    counted before the password is checked.

    Runs its own transaction (the failure is audited although the answer is 401), and uses the
    login counters outside it: they may live in the same database (`DatabaseCounterStore`)."""
    async with database.transaction(write=False) as session:
        named = await repo.find_user_by_login(session, login)
    account_key, address_key = _login_keys(named.id if named else None, login, client)
    await _admit_login(security, account_key, address_key)
    async with database.transaction() as session:
        user = await authenticate(session, security, login, password, client=client)
        pair = await issue_tokens(session, security, user) if user else None
    if pair is not None:
        await security.login_counters.reset(account_key)
        await security.login_counters.undo(address_key)
    return pair


async def authenticate(
    session: AsyncSession,
    security: Security,
    login: str,
    password: str,
    *,
    client: ClientContext,
) -> User | None:
    """The user if the password is right, else None; both outcomes are audited and the caller
    commits either way. Not throttled by itself: `log_in` counts the attempt first."""
    user = await repo.find_user_by_login(session, login)
    valid = await security.passwords.verify(user.password_hash if user else None, password)
    if user is None or not valid or not user.is_active:
        await audit(
            session,
            "login.failed",
            client=client,
            actor_id=user.id if user else None,
            actor_username=login[:64],
            details={"reason": "invalid credentials"},
        )
        return None
    if security.passwords.needs_rehash(user.password_hash):
        await claim(session, user, None)  # concurrent logins: each rehash applies, no 412
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
    family_id = family_id or str(uuid.uuid4())
    # The access token names its login, so a password change can keep this session alone.
    access, expires = security.access_tokens.issue(user.id, now=now, session_id=family_id)
    refresh = new_refresh_token()
    session.add(
        RefreshToken(
            user_id=user.id,
            family_id=family_id,
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
    """A new pair for a live refresh token, spending it. Spending is one compare-and-set
    (`repo.spend_refresh_token`), so of concurrent refreshes with one token exactly one wins.
    Presenting a spent one, or losing that race, revokes the whole family (two clients hold the
    token: it was stolen, or the client is confused): None, and the caller commits."""
    now = utcnow()
    token = await repo.get_refresh_token(session, hash_secret(presented))
    if token is None or token.revoked_at is not None or token.expires_at <= now:
        return None
    user = await repo.get_user(session, token.user_id)
    if user is None or not user.is_active:
        return None
    if not await repo.spend_refresh_token(session, token.id, now):
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


def _csrf_mac(security: Security, nonce: str, refresh_token: str) -> str:
    digest = hmac.new(
        security.csrf_key, f"{nonce}.{refresh_token}".encode(), hashlib.sha256
    ).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def csrf_token(security: Security, refresh_token: str) -> str:
    """The web app's CSRF token for the session holding `refresh_token`: a random nonce and its
    HMAC together with that refresh token ("signed double submit"). A cookie planted by a
    neighbouring site can't carry a valid one without the session's refresh token, and every
    rotation of the refresh token makes a new one."""
    nonce = secrets.token_urlsafe(16)
    return f"{nonce}.{_csrf_mac(security, nonce, refresh_token)}"


def csrf_token_valid(security: Security, refresh_token: str, presented: str) -> bool:
    """Whether `presented` was made by `csrf_token` for this refresh token (constant time)."""
    nonce, _, mac = presented.partition(".")
    if not nonce or not mac:
        return False
    return hmac.compare_digest(mac.encode(), _csrf_mac(security, nonce, refresh_token).encode())


async def log_out_everywhere(
    session: AsyncSession, presented: str, *, client: ClientContext
) -> int | None:
    """Revoke every login of the user holding the live refresh token `presented`: every refresh
    token family, this one included (personal access tokens are separate credentials and stay).
    Answers how many families were revoked, or None when the token is unknown, spent, revoked
    or expired (401). Access tokens already issued can't be revoked: they die within their
    lifetime (15 minutes by default)."""
    now = utcnow()
    token = await repo.get_refresh_token(session, hash_secret(presented))
    if (
        token is None
        or token.revoked_at is not None
        or token.spent_at is not None
        or token.expires_at <= now
    ):
        return None
    revoked = await repo.revoke_families_of(session, token.user_id, now)
    await audit(
        session,
        "logout.everywhere",
        client=client,
        actor_id=token.user_id,
        target_type="user",
        target_id=token.user_id,
        details={"sessions_revoked": revoked},
    )
    return revoked


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
        session_id=claims.session_id,
    )


def pat_needs_touch(last_used_at: datetime | None, now: datetime) -> bool:
    return last_used_at is None or now - last_used_at >= LAST_USED_RESOLUTION


async def update_me(
    session: AsyncSession,
    security: Security,
    principal: Principal,
    data: UserUpdate,
    *,
    client: ClientContext,
) -> User:
    """Change your own profile. A new password ends every other login: each refresh-token family
    of the user is revoked except the one of the access token making the change (all of them
    when the caller uses a personal access token)."""
    user = await repo.get_user(session, principal.id)
    if user is None:
        raise InvalidCredentials()
    await claim(session, user, None)
    changes = data.model_dump(exclude_unset=True)
    if "email" in changes and changes["email"] is not None:
        email_key = str(changes["email"]).lower()
        if await repo.username_or_email_taken(session, None, email_key, except_id=user.id):
            raise AccountExists("That email is already registered.")
        user.email, user.email_key = str(changes["email"]), email_key
        try:
            await session.flush()
        except IntegrityError as exc:  # a concurrent change took it between check and write
            raise AccountExists("That email is already registered.") from exc
    if changes.get("display_name"):
        user.display_name = changes["display_name"]
    if changes.get("password"):
        current = changes.get("current_password") or ""
        if not await security.passwords.verify(user.password_hash, current):
            raise Forbidden("`current_password` is wrong.")
        if changes["password"].lower() == user.username.lower():
            raise Forbidden("The password must not equal the username.")
        user.password_hash = await security.passwords.hash(changes["password"])
        await _password_changed(session, principal, client=client)
    await session.flush()
    forget_user_after_commit(session, security.principals, user.id)
    return user


async def _password_changed(
    session: AsyncSession, principal: Principal, *, client: ClientContext
) -> None:
    keep = principal.session_id if principal.via == "jwt" else None
    revoked = await repo.revoke_families_of(session, principal.id, utcnow(), keep=keep)
    await audit_by(
        session,
        principal,
        "user.password_changed",
        client=client,
        target_type="user",
        target_id=principal.id,
        details={"sessions_revoked": revoked},
    )


async def update_user(
    session: AsyncSession,
    security: Security,
    principal: Principal,
    user_id: str,
    data: AdminUserUpdate,
    *,
    client: ClientContext,
) -> User:
    """An instance admin disables or re-enables an account. Disabling ends every credential of
    the user at once: all refresh-token families and personal access tokens are revoked (enabling
    again restores none of them) and their cached principals dropped."""
    principal.require_instance_admin("Changing accounts")
    user = await repo.get_user(session, user_id)
    if user is None:
        raise NotFound("No such user.")
    await _claim_as_admin(session, principal, user)
    if data.is_active == user.is_active:
        return user
    if not data.is_active and user.id == principal.id:
        raise Forbidden("You can't disable your own account.")
    user.is_active = data.is_active
    details: dict[str, object] = {}
    if not data.is_active:
        now = utcnow()
        details["sessions_revoked"] = await repo.revoke_families_of(session, user.id, now)
        details["tokens_revoked"] = await repo.revoke_pats_of(session, user.id, now)
    await session.flush()
    forget_user_after_commit(session, security.principals, user.id)
    await audit_by(
        session,
        principal,
        "user.disabled" if not data.is_active else "user.enabled",
        client=client,
        target_type="user",
        target_id=user.id,
        details=details,
    )
    return user


async def _claim_as_admin(session: AsyncSession, principal: Principal, user: User) -> None:
    """Claim the account `user` together with the caller's own (in id order, so two admins
    changing each other's accounts queue rather than deadlock), and check the caller is still
    an active instance admin: the principal was resolved before, and an admin disabled by
    another meanwhile must not disable that one in turn (both would be out)."""
    caller = await repo.get_user(session, principal.id)
    await claim_all(session, [user] if caller is None or caller is user else [user, caller])
    if caller is None or not caller.is_active:
        raise InvalidCredentials()
    if not caller.is_admin:
        raise Forbidden("Changing accounts needs an instance admin.")


async def list_tokens(
    session: AsyncSession, principal: Principal, *, page: PageRequest
) -> tuple[list[PersonalAccessToken], str | None]:
    """One page of the principal's tokens that are not revoked, oldest first."""
    return await page.fetch(
        session,
        repo.live_pats_of(principal.id),
        keys=[SortKey(PersonalAccessToken.created_at), SortKey(PersonalAccessToken.id)],
        key_of=lambda p: (p.created_at, p.id),
        sort_name="created_at",
    )


async def create_pat(
    session: AsyncSession,
    security: Security,
    principal: Principal,
    data: TokenCreate,
    *,
    client: ClientContext,
) -> tuple[PersonalAccessToken, str]:
    """A new personal access token and its secret (returned this once, stored only hashed).
    A token can't grant more than the credential that creates it (`Principal.check_grant`);
    without an explicit lifetime, the default is cut to the creating token's own expiry."""
    if principal.via == "pat" and not principal.has_scope("admin"):
        raise Forbidden("Creating tokens with a token needs the admin scope.")
    now = utcnow()
    expires_at = None
    if not data.never_expires:
        if data.expires_in_days:
            expires_at = now + timedelta(days=data.expires_in_days)
        else:
            expires_at = now + security.pat_default_lifetime
            ceiling = principal.grant_expiry_ceiling
            if ceiling is not None:
                expires_at = min(expires_at, ceiling)
    principal.check_grant(data.scopes, data.projects, expires_at)
    secret = new_personal_access_token()
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
    await audit_by(
        session,
        principal,
        "token.created",
        client=client,
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
    # A project-limited token reaches only tokens within its projects.
    if pat is None or not principal.reaches_projects(pat.project_keys):
        raise NotFound("No such token.")
    pat.revoked_at = utcnow()
    forget_user_after_commit(session, security.principals, principal.id)
    await audit_by(
        session,
        principal,
        "token.revoked",
        client=client,
        target_type="personal_access_token",
        target_id=pat.id,
        details={"name": pat.name},
    )
