"""The recipients read model: names and the five settings from user.* events, tombstones, the inbox head.

Each function runs in the caller's transaction and never commits it.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from event_contracts.users import UserProfile
from notifications_service.domain.kinds import Settings
from notifications_service.domain.texts import display_name
from notifications_service.models import (
    ChatPushWindow,
    ChatReadMark,
    Device,
    Notification,
    Recipient,
    UnreadMessage,
)


@dataclass(frozen=True)
class Slot:
    """The next inbox sequence of a user, taken under their row's lock, and their settings at that moment."""

    seq: int
    settings: Settings


def settings_of(row: Recipient) -> Settings:
    return Settings(
        all_messages=row.all_messages,
        new_matches=row.new_matches,
        responses=row.responses,
        contacts=row.contacts,
        news=row.news,
    )


async def remember_profile(session: AsyncSession, profile: UserProfile, occurred_at: datetime) -> None:
    """Upserts name, role and settings; an older event arriving late, or one of a deleted user, changes nothing."""
    values = {
        "first_name": profile.first_name,
        "last_name": profile.last_name,
        "role": profile.role.value,
        "all_messages": profile.notifications_all_messages,
        "new_matches": profile.notifications_new_matches,
        "responses": profile.notifications_responses,
        "contacts": profile.notifications_contacts,
        "news": profile.notifications_news,
        "profile_at": occurred_at,
    }
    await session.execute(
        insert(Recipient)
        .values(id=profile.user_id, **values)
        .on_conflict_do_update(
            index_elements=[Recipient.id],
            set_=values,
            where=~Recipient.deleted & (Recipient.profile_at.is_(None) | (Recipient.profile_at <= occurred_at)),
        )
    )


async def forget(session: AsyncSession, user_id: int) -> None:
    """user.deleted: a tombstone stays (late events find it), everything of the user goes."""
    tombstone = {"deleted": True, "first_name": "", "last_name": "", "role": None}
    await session.execute(
        insert(Recipient)
        .values(id=user_id, **tombstone)
        .on_conflict_do_update(index_elements=[Recipient.id], set_=tombstone)
    )
    for table in (Notification, Device, UnreadMessage, ChatReadMark, ChatPushWindow):
        await session.execute(delete(table).where(table.user_id == user_id))


async def take_slot(session: AsyncSession, user_id: int) -> Slot | None:
    """The user's next sequence (their row locked until the transaction ends); None for a deleted user.

    A user not known yet gets a row with the account's default settings (their profile event may be late).
    """
    row = (
        await session.execute(
            insert(Recipient)
            .values(id=user_id, last_seq=1)
            .on_conflict_do_update(
                index_elements=[Recipient.id], set_={"last_seq": Recipient.last_seq + 1}, where=~Recipient.deleted
            )
            .returning(Recipient)
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()
    return None if row is None else Slot(seq=row.last_seq, settings=settings_of(row))


async def is_deleted(session: AsyncSession, user_id: int) -> bool:
    return bool(await session.scalar(select(Recipient.deleted).where(Recipient.id == user_id)))


async def name_of(session: AsyncSession, user_id: int) -> str:
    row = (await session.execute(select(Recipient).where(Recipient.id == user_id))).scalar_one_or_none()
    if row is None:
        return display_name("", "", known=False)
    return display_name(row.first_name, row.last_name, known=row.profile_at is not None, deleted=row.deleted)


async def release_slot(session: AsyncSession, user_id: int, seq: int) -> None:
    """Gives back a sequence taken for a notification that turned out to exist already (no gap is left)."""
    await session.execute(
        update(Recipient).where(Recipient.id == user_id, Recipient.last_seq == seq).values(last_seq=seq - 1)
    )
