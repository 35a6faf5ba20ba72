"""What the chat service does with the events it consumes; one handler per event type.

Handlers run in the consumer's transaction (deduplicated by event id), so
each one only writes; replays of the same event change nothing.
"""

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import func, or_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from chat_service.domain.fanout import FanOut
from chat_service.models import Chat, KnownProperty, KnownUser
from event_contracts.properties import PropertyCreated, PropertyDeleted, PropertyState, PropertyUpdated
from event_contracts.users import UserDeleted, UserProfile, UserRegistered, UserUpdated
from service_kit.events.consumer import Subscription, subscribe
from service_kit.events.data import Event
from service_kit.runtime import ServiceRuntime

logger = logging.getLogger(__name__)


async def on_user_profile(session: AsyncSession, event: Event[UserProfile]) -> None:
    profile = event.data
    values = {
        "first_name": profile.first_name,
        "last_name": profile.last_name,
        "profile_at": event.occurred_at,
    }
    await session.execute(
        insert(KnownUser)
        .values(id=profile.user_id, **values)
        .on_conflict_do_update(
            index_elements=[KnownUser.id],
            set_={**values, "updated_at": func.now()},
            # A late profile event must not bring a deleted user back, nor an older one undo a newer one.
            where=~KnownUser.deleted & (KnownUser.profile_at.is_(None) | (KnownUser.profile_at <= event.occurred_at)),
        )
    )


async def on_property_changed(session: AsyncSession, event: Event[PropertyState]) -> None:
    listing = event.data
    changed_at = listing.updated_at
    values: dict[str, Any] = {
        "owner_id": listing.owner_id,
        "title": listing.title,
        "cover_image_url": listing.cover_image_url,
        "status": listing.status,
        "source_updated_at": changed_at,
    }
    await session.execute(
        insert(KnownProperty)
        .values(id=listing.property_id, **values)
        .on_conflict_do_update(
            index_elements=[KnownProperty.id],
            set_=values,
            where=(KnownProperty.status != "deleted")
            & (KnownProperty.source_updated_at.is_(None) | (KnownProperty.source_updated_at <= changed_at)),
        )
    )


async def on_property_deleted(session: AsyncSession, event: Event[PropertyDeleted]) -> None:
    await session.execute(
        insert(KnownProperty)
        .values(id=event.data.property_id, owner_id=event.data.owner_id, status="deleted")
        .on_conflict_do_update(index_elements=[KnownProperty.id], set_={"status": "deleted"})
    )


def user_deleted_handler(
    runtime: ServiceRuntime, fanout: FanOut
) -> Callable[[AsyncSession, Event[UserDeleted]], Awaitable[None]]:
    async def handler(session: AsyncSession, event: Event[UserDeleted]) -> None:
        user_id = event.data.user_id
        runtime.revocations.add(user_id)  # the user's tokens are refused here at once
        await session.execute(
            insert(KnownUser)
            .values(id=user_id, deleted=True)
            .on_conflict_do_update(index_elements=[KnownUser.id], set_={"deleted": True})
        )
        # History stays for the other side; the closed mark stops every send, on every replica.
        closed = await session.scalars(
            update(Chat)
            .where(or_(Chat.buyer_id == user_id, Chat.seller_id == user_id), Chat.closed_at.is_(None))
            .values(closed_at=event.occurred_at)
            .returning(Chat.id)
        )
        for chat_id in list(closed):
            try:
                await fanout.publish(
                    chat_id, {"type": "closed", "chat_id": chat_id, "reason": "user_deleted", "user_id": user_id}
                )
            except Exception:
                # Only the live notice is lost: sends are refused by the database either way.
                logger.warning("cannot tell sockets a chat closed", extra={"chat_id": chat_id})

    return handler


def event_handlers(runtime: ServiceRuntime, fanout: FanOut) -> list[Subscription[Any]]:
    return [
        subscribe(UserRegistered, on_user_profile),
        subscribe(UserUpdated, on_user_profile),
        subscribe(UserDeleted, user_deleted_handler(runtime, fanout)),
        subscribe(PropertyCreated, on_property_changed),
        subscribe(PropertyUpdated, on_property_changed),
        subscribe(PropertyDeleted, on_property_deleted),
    ]
