"""What the notifications service does with the events it consumes; one handler per event model.

Each handler runs in the consumer's unit of work together with the dedup record of
the event id, so a redelivered event is skipped as a whole; the rules are in
``domain/notifier.py``.
"""

from typing import Any

from event_contracts.chats import ChatCreated, ChatRead, MessageSent
from event_contracts.properties import ContactRevealed
from event_contracts.search_requests import RequestMatched
from event_contracts.users import UserDeleted, UserProfile, UserRegistered, UserUpdated
from notifications_service.domain.notifier import Notifier
from service_kit.db import UnitOfWork
from service_kit.events.consumer import Subscription, subscribe
from service_kit.events.data import Event
from service_kit.runtime import ServiceRuntime


def event_handlers(runtime: ServiceRuntime, notifier: Notifier) -> list[Subscription[Any]]:
    async def on_profile(work: UnitOfWork, event: Event[UserProfile]) -> None:
        await notifier.remember_profile(work, event.data, event.occurred_at)

    async def on_user_deleted(work: UnitOfWork, event: Event[UserDeleted]) -> None:
        runtime.revocations.add(event.data.user_id)  # the user's tokens are refused here at once
        await notifier.forget_user(work, event.data.user_id)

    async def on_match(work: UnitOfWork, event: Event[RequestMatched]) -> None:
        await notifier.match(work, event.data, event.occurred_at)

    async def on_chat_created(work: UnitOfWork, event: Event[ChatCreated]) -> None:
        await notifier.chat_opened(work, event.data, event.occurred_at)

    async def on_chat_read(work: UnitOfWork, event: Event[ChatRead]) -> None:
        await notifier.chat_read(work, event.data)

    async def on_message(work: UnitOfWork, event: Event[MessageSent]) -> None:
        await notifier.message(work, event.data)

    async def on_contact(work: UnitOfWork, event: Event[ContactRevealed]) -> None:
        await notifier.contact_revealed(work, event.data, event.occurred_at)

    return [
        subscribe(UserRegistered, on_profile),
        subscribe(UserUpdated, on_profile),
        subscribe(UserDeleted, on_user_deleted),
        subscribe(RequestMatched, on_match),
        subscribe(ChatCreated, on_chat_created),
        subscribe(ChatRead, on_chat_read),
        subscribe(MessageSent, on_message),
        subscribe(ContactRevealed, on_contact),
    ]
