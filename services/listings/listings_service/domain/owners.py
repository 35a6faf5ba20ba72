"""The owners read model: names and phones of users, as auth's events describe them."""

from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from listings_service.models import Owner


async def remember_owner(session: AsyncSession, data: dict[str, Any], occurred_at: datetime) -> None:
    """Upserts the profile; an older event arriving late never overwrites a newer one."""
    values = {
        "user_id": int(data["user_id"]),
        "first_name": str(data["first_name"]),
        "last_name": str(data["last_name"]),
        "phone": str(data["phone"]),
        "role": str(data["role"]),
        "updated_at": occurred_at,
    }
    statement = insert(Owner).values(values)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[Owner.user_id],
            set_={key: statement.excluded[key] for key in values if key != "user_id"},
            where=Owner.updated_at <= statement.excluded.updated_at,
        )
    )


async def forget_owner(session: AsyncSession, user_id: int) -> None:
    await session.execute(delete(Owner).where(Owner.user_id == user_id))
