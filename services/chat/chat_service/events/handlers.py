"""What the chat service does with the events it consumes; one handler per event type.

Handlers run in the consumer's unit of work (deduplicated by event id), so
each one only writes; replays of the same event change nothing. What must
reach live sockets is registered to run after the commit.
"""

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from chat_service.domain.chats import ChatService
from chat_service.models import KnownProperty, KnownUser
from service_kit.db import UnitOfWork
from service_kit.events.consumer import EventHandler
from service_kit.events.envelope import EventEnvelope
from service_kit.runtime import ServiceRuntime


async def on_user_profile(session: AsyncSession, event: EventEnvelope) -> None:
    data = event.data
    values = {
        "first_name": data["first_name"][:100],
        "last_name": data["last_name"][:100],
        "profile_at": event.occurred_at,
    }
    await session.execute(
        insert(KnownUser)
        .values(id=int(data["user_id"]), **values)
        .on_conflict_do_update(
            index_elements=[KnownUser.id],
            set_={**values, "updated_at": func.now()},
            # A late profile event must not bring a deleted user back, nor an older one undo a newer one.
            where=~KnownUser.deleted & (KnownUser.profile_at.is_(None) | (KnownUser.profile_at <= event.occurred_at)),
        )
    )


async def on_property_changed(session: AsyncSession, event: EventEnvelope) -> None:
    data = event.data
    changed_at = datetime.fromisoformat(data["updated_at"])
    values: dict[str, Any] = {
        "owner_id": int(data["owner_id"]),
        "title": data["title"],
        "cover_image_url": data.get("cover_image_url"),
        "status": data["status"],
        "source_updated_at": changed_at,
    }
    await session.execute(
        insert(KnownProperty)
        .values(id=int(data["property_id"]), **values)
        .on_conflict_do_update(
            index_elements=[KnownProperty.id],
            set_=values,
            where=(KnownProperty.status != "deleted")
            & (KnownProperty.source_updated_at.is_(None) | (KnownProperty.source_updated_at <= changed_at)),
        )
    )


async def on_property_deleted(session: AsyncSession, event: EventEnvelope) -> None:
    data = event.data
    await session.execute(
        insert(KnownProperty)
        .values(id=int(data["property_id"]), owner_id=int(data["owner_id"]), status="deleted")
        .on_conflict_do_update(index_elements=[KnownProperty.id], set_={"status": "deleted"})
    )


# Tells the live sockets of these chats, on every replica, that this user's account was deleted.
TellChatsClosed = Callable[[list[int], int], Awaitable[None]]


def user_deleted_handler(
    runtime: ServiceRuntime, chats: ChatService, tell_chats_closed: TellChatsClosed
) -> EventHandler:
    revoke = runtime.revoke_on_user_deleted()

    async def handler(session: AsyncSession, event: EventEnvelope) -> None:
        await revoke(session, event)
        user_id = int(event.data["user_id"])
        await session.execute(
            insert(KnownUser)
            .values(id=user_id, deleted=True)
            .on_conflict_do_update(index_elements=[KnownUser.id], set_={"deleted": True})
        )
        # The closed mark stops every send, on every replica; live sockets hear of it once it is committed.
        work = UnitOfWork.of(session)
        closed = await chats.close_chats_of(work, user_id, event.occurred_at)
        if closed:
            work.after_commit(lambda: tell_chats_closed(closed, user_id))

    return handler


def event_handlers(
    runtime: ServiceRuntime, chats: ChatService, tell_chats_closed: TellChatsClosed
) -> dict[str, EventHandler]:
    return {
        "user.registered": on_user_profile,
        "user.updated": on_user_profile,
        "user.deleted": user_deleted_handler(runtime, chats, tell_chats_closed),
        "property.created": on_property_changed,
        "property.updated": on_property_changed,
        "property.deleted": on_property_deleted,
    }
