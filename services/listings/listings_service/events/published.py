"""Payloads of the events listings publishes (models: event_contracts.properties)."""

from typing import TypeVar

from event_contracts.properties import PropertyState
from listings_service.models import Property
from marketplace_rules.vocabulary import rooms_of
from service_kit.uploads import MediaStore

State = TypeVar("State", bound=PropertyState)


def property_state(event: type[State], listing: Property, media: MediaStore) -> State:
    """Data of property.created and property.updated: what matching and chat need."""
    return event(
        property_id=listing.id,
        owner_id=listing.owner_id,
        status=listing.status,
        deal_format=listing.deal_format,
        type=listing.type,
        subtype=listing.subtype,
        condition=listing.condition,
        title=listing.title,
        city=listing.city,
        district=listing.district,
        location=listing.location,
        price=float(listing.price),
        currency=listing.currency,
        price_rub=float(listing.price_rub),
        # The contract's studio is rooms 0; the seed's studio example says rooms=1 with subtype studio.
        rooms=rooms_of(listing.subtype, listing.rooms),
        total_area=listing.total_area,
        cover_image_url=media.url(listing.images[0] if listing.images else None),
        created_at=listing.created_at,
        updated_at=listing.updated_at,
    )
