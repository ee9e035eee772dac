"""Request and response shapes of the identity API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, StringConstraints
from typing_extensions import TypeAliasType

from takt.core.schemas import NOT_BLANK, NOT_NULL, Input

USERNAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{1,31}$"
PROJECT_KEY_PATTERN = r"^[A-Z][A-Z0-9]{1,9}$"

Username = Annotated[
    str,
    StringConstraints(min_length=2, max_length=32, pattern=USERNAME_PATTERN),
    Field(
        description="2-32 letters, digits, `_`, `.` or `-`; unique ignoring case.", examples=["ada"]
    ),
]
Password = Annotated[
    str,
    Field(
        min_length=10,
        max_length=256,
        description="At least 10 characters.",
        examples=["correct-horse-battery"],
    ),
]
DisplayName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=100, strip_whitespace=True, pattern=NOT_BLANK),
    Field(description="Name shown to colleagues.", examples=["Ada Lovelace"]),
]
Email = Annotated[EmailStr, Field(max_length=254, examples=["ada@example.com"])]


class RegisterRequest(Input):
    username: Username
    email: Email
    password: Password
    display_name: DisplayName | None = None

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "username": "ada",
                    "email": "ada@example.com",
                    "password": "correct-horse-battery",
                    "display_name": "Ada Lovelace",
                }
            ]
        },
    )


class UserRead(BaseModel):
    """A user as others see them. Never carries a password hash."""

    id: str = Field(description="Opaque id.")
    username: str
    email: str
    display_name: str
    is_admin: bool = Field(description="Instance administrator.")
    is_active: bool = Field(description="`false`: disabled by an instance admin; can't log in.")
    created_at: datetime


class UserSummary(BaseModel):
    """Someone as colleagues see them (never their email)."""

    id: str = Field(description="Opaque id; what `user_id` fields take.")
    username: str = Field(description="Unique ignoring case.")
    display_name: str = Field(description="Name shown to colleagues.")


class UserUpdate(Input):
    """Change your own profile. `current_password` is required to change the password."""

    display_name: Annotated[DisplayName | None, NOT_NULL] = None
    email: Annotated[Email | None, NOT_NULL] = None
    password: Annotated[Password | None, NOT_NULL] = None
    current_password: Annotated[str | None, NOT_NULL] = Field(None, max_length=256)


class AdminUserCreate(RegisterRequest):
    """An instance admin creates an account (also when sign-up is closed)."""

    is_admin: bool = Field(False, description="Make the new user an instance admin.")


class AdminUserUpdate(Input):
    """An instance admin disables or re-enables an account."""

    is_active: bool = Field(
        description="`false` disables the account: it can't log in, and every refresh token and"
        " personal access token it has is revoked (enabling it again restores none of them).",
        examples=[False],
    )


class TokenPair(BaseModel):
    access_token: str = Field(description="JWT for `Authorization: Bearer`; lives 15 minutes.")
    refresh_token: str = Field(description="Trade it at `/auth/refresh`; single use.")
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the access token expires.", examples=[900])


class SessionLogin(Input):
    """Sign in to the web app with a password (the same check and throttle as `/auth/token`)."""

    username: str = Field(
        min_length=1, max_length=254, description="Username or email.", examples=["ada"]
    )
    password: str = Field(min_length=1, max_length=256, examples=["correct-horse-battery"])


class WebSession(BaseModel):
    """A web session's answer. The refresh token is never in it: it is in the `takt_refresh`
    cookie, which no script can read."""

    access_token: str = Field(
        description="JWT for `Authorization: Bearer`; keep it in memory only. Lives 15 minutes: "
        "get a new one at `POST /auth/session/refresh`."
    )
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the access token expires.", examples=[900])
    csrf_token: str = Field(
        description="Send it as the `X-CSRF-Token` header to the other session endpoints (the "
        "`takt_csrf` cookie holds the same value). It changes with every refresh.",
        examples=["q3Zb0m8XhE2k7n1WcYpR2A.8b0zJ5o4tq2W9d3xXl6cS1f0Ew1yU7aHgk2QmVn4rTs"],
    )


class RefreshRequest(Input):
    refresh_token: str = Field(min_length=1, max_length=256)


def _unique(values: list[str] | None) -> list[str] | None:
    return sorted(set(values)) if values is not None else None


Scope = TypeAliasType("Scope", Literal["read", "write", "admin"])
ScopeName = Scope


def _default_scopes() -> list[ScopeName]:
    return ["read", "write"]


class TokenCreate(Input):
    name: str = Field(min_length=1, max_length=100, examples=["CI pipeline"])
    scopes: Annotated[list[ScopeName], AfterValidator(_unique)] = Field(
        default_factory=_default_scopes,
        min_length=1,
        max_length=3,
        description="`read` (GET only), `write` (also changes), `admin` (also admin actions).",
    )
    expires_in_days: int | None = Field(
        None, ge=1, le=3650, description="Lifetime; default 90 days."
    )
    never_expires: bool = Field(False, description="Opt out of expiry explicitly.")
    projects: (
        Annotated[
            list[Annotated[str, StringConstraints(pattern=PROJECT_KEY_PATTERN)]],
            AfterValidator(_unique),
        ]
        | None
    ) = Field(None, max_length=100, description="Limit to these project keys; omit for all.")


class TokenRead(BaseModel):
    id: str
    name: str
    display_prefix: str = Field(description="The first characters, to recognise the token.")
    scopes: list[Scope]
    projects: list[str] | None
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None


class TokenCreated(TokenRead):
    token: str = Field(description="The secret. Shown only in this response: store it now.")
