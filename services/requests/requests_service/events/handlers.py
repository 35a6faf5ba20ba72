"""What the requests service does with the events it consumes; one handler per event model.

Handlers run inside the consumer's transaction. Data that does not fit the
contract is refused before they run, so the event is retried and then
dead-lettered without holding up the others.
"""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from event_contracts.properties import PropertyCreated, PropertyDeleted, PropertyState, PropertyUpdated
from event_contracts.users import UserDeleted
from requests_service.domain.listings import apply_listing, remove_listing
from requests_service.domain.search_requests import forget_buyer
from service_kit.events.consumer import Subscription, subscribe
from service_kit.events.data import Event
from service_kit.runtime import ServiceRuntime


def event_handlers(runtime: ServiceRuntime) -> list[Subscription[Any]]:
    async def on_user_deleted(session: AsyncSession, event: Event[UserDeleted]) -> None:
        runtime.revocations.add(event.data.user_id)  # the user's tokens are refused here at once
        await forget_buyer(session, event.data.user_id)

    async def on_listing(session: AsyncSession, event: Event[PropertyState]) -> None:
        await apply_listing(session, runtime.outbox, event.data)

    async def on_listing_deleted(session: AsyncSession, event: Event[PropertyDeleted]) -> None:
        await remove_listing(session, event.data.property_id)

    return [
        subscribe(UserDeleted, on_user_deleted),
        subscribe(PropertyCreated, on_listing),
        subscribe(PropertyUpdated, on_listing),
        subscribe(PropertyDeleted, on_listing_deleted),
    ]
