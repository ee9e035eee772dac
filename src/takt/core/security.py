"""Password hashing (argon2id), JWT access tokens, and opaque secrets stored only as hashes."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import string
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from takt.core.time import utcnow

JWT_ALGORITHM = "HS256"
JWT_ISSUER = "takt"
JWT_AUDIENCE = "takt-api"
PAT_PREFIX = "takt_pat_"
REFRESH_PREFIX = "takt_rt_"
_ALPHABET = string.ascii_letters + string.digits
_PAT_RANDOM_LENGTH = 32
_PAT_CHECKSUM_LENGTH = 6


class Passwords:
    """argon2id with configurable cost; hashing runs off the event loop (it takes ~20-50 ms)."""

    def __init__(self, *, time_cost: int, memory_kib: int, parallelism: int) -> None:
        self._hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism
        )
        # Verified against when the user does not exist, so both paths cost the same.
        self._dummy_hash = self._hasher.hash(secrets.token_urlsafe(16))

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        target = password_hash or self._dummy_hash
        try:
            ok = await asyncio.to_thread(self._hasher.verify, target, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
        return bool(ok) and password_hash is not None

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)


@dataclass(frozen=True)
class AccessClaims:
    user_id: str
    token_id: str
    expires_at: datetime
    # The refresh-token family (the login) the access token was issued with; None for tokens
    # issued outside a login, and for those issued before the claim existed.
    session_id: str | None = None


class TokenError(Exception):
    """The bearer token is not a valid access token; the message says why (for logs only)."""


class AccessTokens:
    """Short-lived HS256 JWTs. The algorithm is pinned and every registered claim is checked."""

    def __init__(self, secret: str, *, lifetime: timedelta) -> None:
        self._key = hashlib.sha256(b"takt-jwt:" + secret.encode()).digest()
        self.lifetime = lifetime

    def issue(
        self, user_id: str, *, now: datetime | None = None, session_id: str | None = None
    ) -> tuple[str, datetime]:
        now = now or utcnow()
        expires = now + self.lifetime
        claims: dict[str, Any] = {
            "iss": JWT_ISSUER,
            "aud": JWT_AUDIENCE,
            "sub": user_id,
            "typ": "access",
            "iat": int(now.timestamp()),
            "nbf": int(now.timestamp()),
            "exp": int(expires.timestamp()),
            "jti": secrets.token_hex(8),
        }
        if session_id is not None:
            claims["sid"] = session_id
        return jwt.encode(claims, self._key, algorithm=JWT_ALGORITHM), expires

    def verify(self, token: str) -> AccessClaims:
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=[JWT_ALGORITHM],
                audience=JWT_AUDIENCE,
                issuer=JWT_ISSUER,
                options={"require": ["exp", "iat", "iss", "aud", "sub", "typ"]},
            )
        except jwt.PyJWTError as exc:
            raise TokenError(str(exc)) from exc
        if claims.get("typ") != "access" or not isinstance(claims.get("sub"), str):
            raise TokenError("not an access token")
        return AccessClaims(
            user_id=claims["sub"],
            token_id=str(claims.get("jti", "")),
            expires_at=datetime.fromtimestamp(claims["exp"]).astimezone(),
            session_id=claims["sid"] if isinstance(claims.get("sid"), str) else None,
        )


def hash_secret(secret: str) -> str:
    """High-entropy secrets (tokens) need no slow hash: SHA-256 is enough and allows lookup."""
    return hashlib.sha256(secret.encode()).hexdigest()


def _random(length: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def _checksum(body: str) -> str:
    value = zlib.crc32(body.encode())
    digits = []
    for _ in range(_PAT_CHECKSUM_LENGTH):
        value, rem = divmod(value, len(_ALPHABET))
        digits.append(_ALPHABET[rem])
    return "".join(digits)


def new_personal_access_token() -> str:
    body = _random(_PAT_RANDOM_LENGTH)
    return f"{PAT_PREFIX}{body}{_checksum(body)}"


def is_well_formed_pat(token: str) -> bool:
    """Rejects typos and truncations without touching the database."""
    if not token.startswith(PAT_PREFIX):
        return False
    rest = token[len(PAT_PREFIX) :]
    if len(rest) != _PAT_RANDOM_LENGTH + _PAT_CHECKSUM_LENGTH:
        return False
    body, checksum = rest[:_PAT_RANDOM_LENGTH], rest[_PAT_RANDOM_LENGTH:]
    return hmac.compare_digest(checksum, _checksum(body))


def display_prefix(token: str) -> str:
    return token[: len(PAT_PREFIX) + 4]


def new_refresh_token() -> str:
    return REFRESH_PREFIX + secrets.token_urlsafe(32)
