"""What the chat service does with the events it consumes; one handler per event type.

Handlers run in the consumer's unit of work (deduplicated by event id), so
each one only writes; replays of the same event change nothing. What must
reach live sockets is registered to run after the commit.
"""

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert

from chat_service.domain.chats import ChatService
from chat_service.models import KnownProperty, KnownUser
from event_contracts.properties import PropertyCreated, PropertyDeleted, PropertyState, PropertyUpdated
from event_contracts.search_requests import RequestMatched
from event_contracts.users import UserDeleted, UserProfile, UserRegistered, UserUpdated
from service_kit.db import UnitOfWork
from service_kit.events.consumer import Subscription, subscribe
from service_kit.events.data import Event
from service_kit.runtime import ServiceRuntime


async def on_user_profile(work: UnitOfWork, event: Event[UserProfile]) -> None:
    profile = event.data
    values = {
        "first_name": profile.first_name,
        "last_name": profile.last_name,
        "profile_at": event.occurred_at,
    }
    await work.session.execute(
        insert(KnownUser)
        .values(id=profile.user_id, **values)
        .on_conflict_do_update(
            index_elements=[KnownUser.id],
            set_={**values, "updated_at": func.now()},
            # A late profile event must not bring a deleted user back, nor an older one undo a newer one.
            where=~KnownUser.deleted & (KnownUser.profile_at.is_(None) | (KnownUser.profile_at <= event.occurred_at)),
        )
    )


async def on_property_changed(work: UnitOfWork, event: Event[PropertyState]) -> None:
    listing = event.data
    changed_at = listing.updated_at
    values: dict[str, Any] = {
        "owner_id": listing.owner_id,
        "title": listing.title,
        "cover_image_url": listing.cover_image_url,
        "status": listing.status,
        "source_updated_at": changed_at,
    }
    await work.session.execute(
        insert(KnownProperty)
        .values(id=listing.property_id, **values)
        .on_conflict_do_update(
            index_elements=[KnownProperty.id],
            set_=values,
            where=(KnownProperty.status != "deleted")
            & (KnownProperty.source_updated_at.is_(None) | (KnownProperty.source_updated_at <= changed_at)),
        )
    )


async def on_property_deleted(work: UnitOfWork, event: Event[PropertyDeleted]) -> None:
    await work.session.execute(
        insert(KnownProperty)
        .values(id=event.data.property_id, owner_id=event.data.owner_id, status="deleted")
        .on_conflict_do_update(index_elements=[KnownProperty.id], set_={"status": "deleted"})
    )


# Tells the live sockets of these chats, on every replica, that this user's account was deleted.
TellChatsClosed = Callable[[list[int], int], Awaitable[None]]


def user_deleted_handler(
    runtime: ServiceRuntime, chats: ChatService, tell_chats_closed: TellChatsClosed
) -> Callable[[UnitOfWork, Event[UserDeleted]], Awaitable[None]]:
    async def handler(work: UnitOfWork, event: Event[UserDeleted]) -> None:
        user_id = event.data.user_id
        runtime.revocations.add(user_id)  # the user's tokens are refused here at once
        await work.session.execute(
            insert(KnownUser)
            .values(id=user_id, deleted=True)
            .on_conflict_do_update(index_elements=[KnownUser.id], set_={"deleted": True})
        )
        # The closed mark stops every send, on every replica; live sockets hear of it once it is committed.
        closed = await chats.close_chats_of(work, user_id, event.occurred_at)
        if closed:
            work.after_commit(lambda: tell_chats_closed(closed, user_id))

    return handler


def event_handlers(
    runtime: ServiceRuntime, chats: ChatService, tell_chats_closed: TellChatsClosed
) -> list[Subscription[Any]]:
    async def on_match(work: UnitOfWork, event: Event[RequestMatched]) -> None:
        match = event.data
        await chats.remember_match(work, match.request_id, match.property_id, match.buyer_id, match.seller_id)

    return [
        subscribe(UserRegistered, on_user_profile),
        subscribe(UserUpdated, on_user_profile),
        subscribe(UserDeleted, user_deleted_handler(runtime, chats, tell_chats_closed)),
        subscribe(PropertyCreated, on_property_changed),
        subscribe(PropertyUpdated, on_property_changed),
        subscribe(PropertyDeleted, on_property_deleted),
        subscribe(RequestMatched, on_match),
    ]
