"""What the requests service does with the events it consumes; one handler per event model.

Handlers run inside the consumer's unit of work. Data that does not fit the
contract is refused before they run, so the event is retried and then
dead-lettered without holding up the others.
"""

from typing import Any

from event_contracts.properties import PropertyCreated, PropertyDeleted, PropertyState, PropertyUpdated
from event_contracts.users import UserDeleted
from requests_service.domain.listings import apply_listing, remove_listing
from requests_service.domain.search_requests import forget_buyer
from service_kit.db import UnitOfWork
from service_kit.events.consumer import Subscription, subscribe
from service_kit.events.data import Event
from service_kit.runtime import ServiceRuntime


def event_handlers(runtime: ServiceRuntime) -> list[Subscription[Any]]:
    async def on_user_deleted(work: UnitOfWork, event: Event[UserDeleted]) -> None:
        runtime.revocations.add(event.data.user_id)  # the user's tokens are refused here at once
        await forget_buyer(work.session, event.data.user_id)

    async def on_listing(work: UnitOfWork, event: Event[PropertyState]) -> None:
        await apply_listing(work.session, runtime.outbox, event.data)

    async def on_listing_deleted(work: UnitOfWork, event: Event[PropertyDeleted]) -> None:
        await remove_listing(work.session, event.data.property_id)

    return [
        subscribe(UserDeleted, on_user_deleted),
        subscribe(PropertyCreated, on_listing),
        subscribe(PropertyUpdated, on_listing),
        subscribe(PropertyDeleted, on_listing_deleted),
    ]
