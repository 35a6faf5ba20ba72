"""Events auth follows.

- ``chat.created``, in the service's own queue: who shares a chat, so they see each other's contacts.
- ``user.deleted``, in every verifier process: into its in-memory revocation list.
"""

from typing import Any

from auth_service.domain.contacts import record_chat
from event_contracts.chats import ChatCreated
from event_contracts.users import UserDeleted
from service_kit.db import UnitOfWork
from service_kit.events.consumer import MemorySubscription, Subscription, subscribe, subscribe_in_memory
from service_kit.events.data import Event
from service_kit.security import RevocationList


async def on_chat_created(work: UnitOfWork, event: Event[ChatCreated]) -> None:
    await record_chat(work.session, event.data.buyer_id, event.data.seller_id)


def event_handlers() -> list[Subscription[Any]]:
    return [subscribe(ChatCreated, on_chat_created)]


def revocation_handlers(revocations: RevocationList) -> list[MemorySubscription[Any]]:
    async def on_user_deleted(event: Event[UserDeleted]) -> None:
        revocations.add(event.data.user_id)

    return [subscribe_in_memory(UserDeleted, on_user_deleted)]
