"""What the requests service does with the events it consumes; one handler per event type.

Handlers run inside the consumer's transaction. Data that does not fit the
contract raises, so the event is retried and then dead-lettered without
holding up the others.
"""

from sqlalchemy.ext.asyncio import AsyncSession

from requests_service.domain.listings import ListingData, ListingRemoved, apply_listing, remove_listing
from requests_service.domain.search_requests import forget_buyer
from service_kit.events.consumer import EventHandler
from service_kit.events.envelope import EventEnvelope
from service_kit.runtime import ServiceRuntime


def event_handlers(runtime: ServiceRuntime) -> dict[str, EventHandler]:
    revoke = runtime.revoke_on_user_deleted()

    async def on_user_deleted(session: AsyncSession, event: EventEnvelope) -> None:
        await revoke(session, event)
        await forget_buyer(session, int(event.data["user_id"]))

    async def on_listing(session: AsyncSession, event: EventEnvelope) -> None:
        await apply_listing(session, runtime.outbox, ListingData.model_validate(event.data))

    async def on_listing_deleted(session: AsyncSession, event: EventEnvelope) -> None:
        await remove_listing(session, ListingRemoved.model_validate(event.data).property_id)

    return {
        "user.deleted": on_user_deleted,
        "property.created": on_listing,
        "property.updated": on_listing,
        "property.deleted": on_listing_deleted,
    }
