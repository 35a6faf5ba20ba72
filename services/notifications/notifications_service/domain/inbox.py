"""The inbox: recording notifications once, paging them, marking them read, and the unread badge.

A user's notifications carry a per-user sequence taken under the user's row lock
(``recipients.take_slot``): a notification commits before the next one of that
user gets its number, so replaying "everything after N" after a reconnect never
misses one. Writes run in the caller's transaction and never commit it.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from notifications_service.domain import recipients
from notifications_service.domain.kinds import Kind, PushStatus
from notifications_service.domain.texts import Text
from notifications_service.domain.values import Badge, InboxPage, NotificationValue
from notifications_service.models import ChatReadMark, Notification, UnreadMessage


class NotFound(Exception):
    """No such notification of this user."""


@dataclass(frozen=True)
class Draft:
    """A notification about to be recorded; ``dedup_key`` names what it is about (once per user)."""

    kind: Kind
    dedup_key: str
    text: Text
    data: dict[str, Any]
    chat_id: int | None = None
    message_seq: int | None = None


def value_of(row: Notification) -> NotificationValue:
    return NotificationValue(
        id=row.id,
        seq=row.seq,
        kind=row.kind,
        title=row.title,
        body=row.body,
        data=row.data,
        alert=row.alert,
        push_status=row.push_status,
        created_at=row.created_at,
        read_at=row.read_at,
    )


async def record(
    session: AsyncSession, user_id: int, slot: recipients.Slot, draft: Draft, push_status: PushStatus
) -> NotificationValue | None:
    """Adds the notification with the slot's sequence; None (and the slot given back) if it exists already."""
    row = (
        await session.execute(
            insert(Notification)
            .values(
                user_id=user_id,
                seq=slot.seq,
                kind=draft.kind.value,
                dedup_key=draft.dedup_key,
                title=draft.text.title,
                body=draft.text.body,
                data=draft.data,
                alert=slot.settings.allows(draft.kind),
                push_status=push_status.value,
                chat_id=draft.chat_id,
                message_seq=draft.message_seq,
            )
            .on_conflict_do_nothing(constraint="uq_notifications_dedup")
            .returning(Notification)
        )
    ).scalar_one_or_none()
    if row is None:
        await recipients.release_slot(session, user_id, slot.seq)
        return None
    return value_of(row)


async def set_push_status(session: AsyncSession, notification_id: int, status: PushStatus) -> None:
    await session.execute(update(Notification).where(Notification.id == notification_id).values(push_status=status))


def _of_user(user_id: int, kinds: Sequence[Kind] = (), unread_only: bool = False) -> Select[Notification]:
    query = select(Notification).where(Notification.user_id == user_id)
    if kinds:
        query = query.where(Notification.kind.in_([kind.value for kind in kinds]))
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    return query


async def page(
    session: AsyncSession,
    user_id: int,
    *,
    before: int | None,
    limit: int,
    kinds: Sequence[Kind] = (),
    unread_only: bool = False,
) -> InboxPage:
    """Newest first; ``before`` (a seq) continues where the previous page ended."""
    query = _of_user(user_id, kinds, unread_only)
    if before is not None:
        query = query.where(Notification.seq < before)
    rows = list(await session.scalars(query.order_by(Notification.seq.desc()).limit(limit + 1)))
    more = len(rows) > limit
    items = [value_of(row) for row in rows[:limit]]
    return InboxPage(items, items[-1].seq if more and items else None, await unread_count(session, user_id))


async def after(
    session: AsyncSession, user_id: int, seq: int, limit: int, up_to: int | None = None
) -> list[NotificationValue]:
    """Replay: at most ``limit`` notifications after ``seq`` (up to ``up_to`` if given), oldest first."""
    query = _of_user(user_id).where(Notification.seq > seq)
    if up_to is not None:
        query = query.where(Notification.seq <= up_to)
    return [value_of(row) for row in await session.scalars(query.order_by(Notification.seq).limit(limit))]


async def last_seq(session: AsyncSession, user_id: int) -> int:
    found = await session.scalar(select(func.max(Notification.seq)).where(Notification.user_id == user_id))
    return int(found or 0)


async def unread_count(session: AsyncSession, user_id: int) -> int:
    count = await session.scalar(
        select(func.count()).where(Notification.user_id == user_id, Notification.read_at.is_(None))
    )
    return int(count or 0)


async def mark_read(
    session: AsyncSession, user_id: int, *, ids: Sequence[int] = (), up_to_seq: int | None = None
) -> int:
    """Marks the user's notifications with these ids, or up to this seq, read; returns how many changed.

    Ids of other users' notifications, or of none, are ``NotFound`` (nothing is marked then).
    """
    if ids:
        owned = set(
            await session.scalars(
                select(Notification.id).where(Notification.user_id == user_id, Notification.id.in_(list(ids)))
            )
        )
        if owned != set(ids):
            raise NotFound(f"No notification {sorted(set(ids) - owned)[0]}")
        scope: ColumnElement[bool] = Notification.id.in_(list(ids))
    else:
        scope = Notification.seq <= (up_to_seq or 0)
    changed = await session.scalars(
        update(Notification)
        .where(Notification.user_id == user_id, scope, Notification.read_at.is_(None))
        .values(read_at=func.now())
        .returning(Notification.id)
    )
    return len(list(changed))


async def badge(session: AsyncSession, user_id: int) -> Badge:
    messages, chats = (
        await session.execute(
            select(func.count(), func.count(func.distinct(UnreadMessage.chat_id))).where(
                UnreadMessage.user_id == user_id
            )
        )
    ).one()
    return Badge(notifications=await unread_count(session, user_id), messages=int(messages), chats=int(chats))


# -- chat messages: unread rows for the badge ---------------------------------------------------------------


async def note_unread(session: AsyncSession, user_id: int, chat_id: int, seq: int) -> int:
    """Counts the message unread unless the user's read mark covers it; returns the chat's unread count.

    The read mark's row is locked first, so a concurrent chat.read cannot miss this message.
    """
    read_seq = await session.scalar(
        insert(ChatReadMark)
        .values(user_id=user_id, chat_id=chat_id, read_seq=0)
        .on_conflict_do_update(
            index_elements=[ChatReadMark.user_id, ChatReadMark.chat_id], set_={"read_seq": ChatReadMark.read_seq}
        )
        .returning(ChatReadMark.read_seq)
    )
    if seq > int(read_seq or 0):
        await session.execute(
            insert(UnreadMessage).values(user_id=user_id, chat_id=chat_id, seq=seq).on_conflict_do_nothing()
        )
    count = await session.scalar(
        select(func.count()).where(UnreadMessage.user_id == user_id, UnreadMessage.chat_id == chat_id)
    )
    return int(count or 0)


async def chat_read(session: AsyncSession, user_id: int, chat_id: int, read_seq: int) -> None:
    """chat.read: the mark moves forward only; messages up to it stop being unread, their notifications too."""
    await session.execute(
        insert(ChatReadMark)
        .values(user_id=user_id, chat_id=chat_id, read_seq=read_seq)
        .on_conflict_do_update(
            index_elements=[ChatReadMark.user_id, ChatReadMark.chat_id],
            set_={"read_seq": func.greatest(ChatReadMark.read_seq, read_seq)},
        )
    )
    await session.execute(
        delete(UnreadMessage).where(
            UnreadMessage.user_id == user_id, UnreadMessage.chat_id == chat_id, UnreadMessage.seq <= read_seq
        )
    )
    await session.execute(
        update(Notification)
        .where(
            and_(
                Notification.user_id == user_id,
                Notification.kind == Kind.MESSAGE.value,
                Notification.chat_id == chat_id,
                Notification.read_at.is_(None),
                Notification.message_seq <= read_seq,
            )
        )
        .values(read_at=func.now())
    )
