"""The owners read model: names and phones of users, as auth's events describe them."""

from datetime import datetime

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from event_contracts.users import UserProfile
from listings_service.models import Owner


async def remember_owner(session: AsyncSession, profile: UserProfile, occurred_at: datetime) -> None:
    """Upserts the profile; an older event arriving late never overwrites a newer one.

    A deleted user's tombstone is never overwritten: their profile events are ignored.
    """
    values = {
        "user_id": profile.user_id,
        "first_name": profile.first_name,
        "last_name": profile.last_name,
        "phone": profile.phone,
        "role": profile.role.value,
        "updated_at": occurred_at,
    }
    statement = insert(Owner).values(values)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[Owner.user_id],
            set_={key: statement.excluded[key] for key in values if key != "user_id"},
            where=(Owner.deleted_at.is_(None)) & (Owner.updated_at <= statement.excluded.updated_at),
        )
    )


async def forget_owner(session: AsyncSession, user_id: int) -> None:
    """user.deleted: the profile goes, a tombstone stays (also when no profile was known yet)."""
    gone = {"first_name": None, "last_name": None, "phone": None, "role": None, "deleted_at": func.now()}
    statement = insert(Owner).values(user_id=user_id, **gone)
    await session.execute(
        statement.on_conflict_do_update(index_elements=[Owner.user_id], set_=gone, where=Owner.deleted_at.is_(None))
    )
