"""The local read model of listings, kept from the listings service's property.* events."""

from sqlalchemy import delete, exists, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from event_contracts.properties import PropertyState
from marketplace_rules.money import to_decimal
from marketplace_rules.places import city_key, listing_district_key
from requests_service.domain.matching import NewMatch, lock_criteria, rematch_listing
from requests_service.models import DeletedListing, Listing
from service_kit.events.outbox import Outbox


async def apply_listing(session: AsyncSession, outbox: Outbox, data: PropertyState) -> list[NewMatch]:
    """Stores the listing's latest state and matches it; stale or post-deletion events change nothing."""
    if await session.scalar(select(exists().where(DeletedListing.property_id == data.property_id))):
        return []
    key = city_key(data.city)
    await _lock_old_and_new(session, data.property_id, (data.deal_format, data.type, key))
    values = {
        "owner_id": data.owner_id,
        "status": data.status,
        "deal_format": data.deal_format,
        "type": data.type,
        "subtype": data.subtype,
        "condition": data.condition,
        "title": data.title,
        "city": data.city,
        "city_key": key,
        "district": data.district,
        "district_key": listing_district_key(data.district, data.location),
        "price": to_decimal(data.price),
        "currency": data.currency,
        "price_rub": to_decimal(data.price_rub),
        "rooms": data.rooms,
        "total_area": to_decimal(data.total_area),
        "cover_image_url": data.cover_image_url,
        "listed_at": data.created_at,
        "updated_at": data.updated_at,
    }
    statement = insert(Listing).values(property_id=data.property_id, **values)
    stored = await session.scalar(
        statement.on_conflict_do_update(
            index_elements=[Listing.property_id],
            set_=values,
            # Events may arrive out of order: an older state never replaces a newer one.
            where=Listing.updated_at <= statement.excluded.updated_at,
        ).returning(Listing.property_id)
    )
    if stored is None:
        return []
    return await rematch_listing(session, outbox, data.property_id)


async def _stored_key(session: AsyncSession, property_id: int) -> tuple[str, str, str] | None:
    row = (
        await session.execute(
            select(Listing.deal_format, Listing.type, Listing.city_key).where(Listing.property_id == property_id)
        )
    ).first()
    return None if row is None else (row[0], row[1], row[2])


async def _lock_old_and_new(session: AsyncSession, property_id: int, new: tuple[str, str, str]) -> None:
    """Locks the criteria the listing leaves and the ones it joins, in sorted order.

    A request matched under the old key at the same time would otherwise keep a
    match this rematch never sees. Should another event for this listing change
    the stored key between the read and the lock, that key is locked as well.
    """
    locked: set[tuple[str, str, str]] = set()
    old = await _stored_key(session, property_id)
    while True:
        wanted = {new} if old is None else {new, old}
        for key in sorted(wanted - locked):
            await lock_criteria(session, *key)
            locked.add(key)
        old = await _stored_key(session, property_id)
        if old is None or old in locked:
            return


async def remove_listing(session: AsyncSession, property_id: int) -> None:
    """Idempotent; its matches go with it (foreign key cascade)."""
    await session.execute(insert(DeletedListing).values(property_id=property_id).on_conflict_do_nothing())
    await session.execute(delete(Listing).where(Listing.property_id == property_id))
