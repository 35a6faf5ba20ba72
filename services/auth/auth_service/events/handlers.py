"""Events auth follows: only user.deleted, into each verifier's in-memory revocation list."""

from typing import Any

from event_contracts.users import UserDeleted
from service_kit.events.consumer import MemorySubscription, subscribe_in_memory
from service_kit.events.data import Event
from service_kit.security import RevocationList


def revocation_handlers(revocations: RevocationList) -> list[MemorySubscription[Any]]:
    async def on_user_deleted(event: Event[UserDeleted]) -> None:
        revocations.add(event.data.user_id)

    return [subscribe_in_memory(UserDeleted, on_user_deleted)]
