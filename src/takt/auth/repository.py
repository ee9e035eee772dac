"""Every query of the identity domain."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from takt.auth.models import PersonalAccessToken, RefreshToken, User


async def count_users(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(User)) or 0)


async def get_user(session: AsyncSession, user_id: str) -> User | None:
    return await session.get(User, user_id)


async def find_user_by_login(session: AsyncSession, login: str) -> User | None:
    """By username or email, ignoring case."""
    key = login.strip().lower()
    column = User.email_key if "@" in key else User.username_key
    return await session.scalar(select(User).where(column == key))


async def find_user(
    session: AsyncSession, *, user_id: str | None, username: str | None, email: str | None
) -> User | None:
    if user_id:
        return await get_user(session, user_id)
    if username:
        return await session.scalar(select(User).where(User.username_key == username.lower()))
    if email:
        return await session.scalar(select(User).where(User.email_key == email.lower()))
    return None


async def username_or_email_taken(
    session: AsyncSession, username_key: str | None, email_key: str | None, *, except_id: str = ""
) -> str | None:
    """Which of the two is already taken by someone else, if any."""
    if username_key and await session.scalar(
        select(User.id).where(User.username_key == username_key, User.id != except_id)
    ):
        return "username"
    if email_key and await session.scalar(
        select(User.id).where(User.email_key == email_key, User.id != except_id)
    ):
        return "email"
    return None


async def get_refresh_token(session: AsyncSession, token_hash: str) -> RefreshToken | None:
    return await session.scalar(select(RefreshToken).where(RefreshToken.token_hash == token_hash))


async def spend_refresh_token(session: AsyncSession, token_id: str, at: datetime) -> bool:
    """Mark a live refresh token spent: one compare-and-set, so of concurrent callers exactly one
    gets True (on PostgreSQL the others wait for its row lock, then find it spent)."""
    spent = await session.scalar(
        update(RefreshToken)
        .where(
            RefreshToken.id == token_id,
            RefreshToken.spent_at.is_(None),
            RefreshToken.revoked_at.is_(None),
        )
        .values(spent_at=at)
        .returning(RefreshToken.id)
        .execution_options(synchronize_session=False)
    )
    return spent is not None


async def revoke_family(session: AsyncSession, family_id: str, at: datetime) -> None:
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=at)
    )


async def revoke_families_of(
    session: AsyncSession, user_id: str, at: datetime, *, keep: str | None = None
) -> int:
    """Revoke every live refresh token of a user (all of their logins) except those of the
    family `keep`; returns how many families were revoked."""
    condition = [RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None)]
    if keep is not None:
        condition.append(RefreshToken.family_id != keep)
    families = (
        await session.scalars(
            update(RefreshToken)
            .where(*condition)
            .values(revoked_at=at)
            .returning(RefreshToken.family_id)
            .execution_options(synchronize_session=False)
        )
    ).all()
    return len(set(families))


async def revoke_pats_of(session: AsyncSession, user_id: str, at: datetime) -> int:
    """Revoke every live personal access token of a user; returns how many."""
    revoked = (
        await session.scalars(
            update(PersonalAccessToken)
            .where(PersonalAccessToken.user_id == user_id, PersonalAccessToken.revoked_at.is_(None))
            .values(revoked_at=at)
            .returning(PersonalAccessToken.id)
            .execution_options(synchronize_session=False)
        )
    ).all()
    return len(revoked)


async def get_pat_by_hash(session: AsyncSession, token_hash: str) -> PersonalAccessToken | None:
    return await session.scalar(
        select(PersonalAccessToken).where(PersonalAccessToken.token_hash == token_hash)
    )


def live_pats_of(user_id: str) -> Select[PersonalAccessToken]:
    return select(PersonalAccessToken).where(
        PersonalAccessToken.user_id == user_id, PersonalAccessToken.revoked_at.is_(None)
    )


async def get_pat(session: AsyncSession, user_id: str, token_id: str) -> PersonalAccessToken | None:
    return await session.scalar(
        select(PersonalAccessToken).where(
            PersonalAccessToken.id == token_id,
            PersonalAccessToken.user_id == user_id,
            PersonalAccessToken.revoked_at.is_(None),
        )
    )


async def touch_pat(session: AsyncSession, token_id: str, at: datetime) -> None:
    await session.execute(
        update(PersonalAccessToken)
        .where(PersonalAccessToken.id == token_id)
        .values(last_used_at=at)
    )
