"""What the listings service does with the events it consumes; one handler per event model.

Each handler runs in the consumer's unit of work together with the dedup record
of the event id, so a redelivered event is skipped as a whole.
"""

from typing import Any

from event_contracts.users import UserDeleted, UserProfile, UserRegistered, UserUpdated
from listings_service.domain.listings import Listings
from listings_service.domain.owners import forget_owner, remember_owner
from service_kit.db import UnitOfWork
from service_kit.events.consumer import Subscription, subscribe
from service_kit.events.data import Event
from service_kit.runtime import ServiceRuntime


def event_handlers(runtime: ServiceRuntime, listings: Listings) -> list[Subscription[Any]]:
    async def user_profile(work: UnitOfWork, event: Event[UserProfile]) -> None:
        await remember_owner(work.session, event.data, event.occurred_at)

    async def user_deleted(work: UnitOfWork, event: Event[UserDeleted]) -> None:
        user_id = event.data.user_id
        runtime.revocations.add(user_id)  # the user's tokens are refused here at once
        await listings.archive_owner(work.session, user_id)
        await forget_owner(work.session, user_id)

    return [
        subscribe(UserRegistered, user_profile),
        subscribe(UserUpdated, user_profile),
        subscribe(UserDeleted, user_deleted),
    ]
