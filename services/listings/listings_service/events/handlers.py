"""What the listings service does with the events it consumes; one handler per event type.

Each handler runs in the consumer's transaction together with the dedup record
of the event id, so a redelivered event is skipped as a whole.
"""

from sqlalchemy.ext.asyncio import AsyncSession

from listings_service.domain.listings import Listings
from listings_service.domain.owners import forget_owner, remember_owner
from service_kit.events.consumer import EventHandler
from service_kit.events.envelope import EventEnvelope
from service_kit.runtime import ServiceRuntime


def event_handlers(runtime: ServiceRuntime, listings: Listings) -> dict[str, EventHandler]:
    revoke = runtime.revoke_on_user_deleted()

    async def user_profile(session: AsyncSession, event: EventEnvelope) -> None:
        await remember_owner(session, event.data, event.occurred_at)

    async def user_deleted(session: AsyncSession, event: EventEnvelope) -> None:
        await revoke(session, event)
        user_id = int(event.data["user_id"])
        await listings.archive_owner(session, user_id)
        await forget_owner(session, user_id)

    return {"user.registered": user_profile, "user.updated": user_profile, "user.deleted": user_deleted}
