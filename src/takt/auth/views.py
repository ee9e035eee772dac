"""Accounts and tokens to the API's response shapes."""

from __future__ import annotations

from takt.auth.models import PersonalAccessToken, User
from takt.auth.principal import Account
from takt.auth.schemas import TokenPair, TokenRead, UserRead, WebSession


def user_read(user: User | Account) -> UserRead:
    """A user row, or the request's frozen copy of one (`Account`), as others see it."""
    return UserRead(
        id=user.id,
        username=user.username,
        email=user.email,
        display_name=user.display_name,
        is_admin=user.is_admin,
        is_active=user.is_active,
        created_at=user.created_at,
    )


def token_read(pat: PersonalAccessToken) -> TokenRead:
    """A token without its secret."""
    return TokenRead(
        id=pat.id,
        name=pat.name,
        display_prefix=pat.display_prefix,
        scopes=pat.scopes,
        projects=pat.project_keys,
        created_at=pat.created_at,
        expires_at=pat.expires_at,
        last_used_at=pat.last_used_at,
    )


def web_session_read(pair: TokenPair, csrf_token: str) -> WebSession:
    """A login's tokens as the web app gets them: everything but the refresh token, which goes
    into its HttpOnly cookie."""
    return WebSession(
        access_token=pair.access_token,
        token_type=pair.token_type,
        expires_in=pair.expires_in,
        csrf_token=csrf_token,
    )
