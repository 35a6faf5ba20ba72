"""Payloads of the events listings publishes (schemas: contracts/events/property.*.json)."""

from typing import Any

from listings_service.models import Property
from service_kit.uploads import MediaStore


def property_data(listing: Property, media: MediaStore) -> dict[str, Any]:
    """Data of property.created and property.updated: what matching and chat need."""
    return {
        "property_id": listing.id,
        "owner_id": listing.owner_id,
        "status": listing.status,
        "deal_format": listing.deal_format,
        "type": listing.type,
        "subtype": listing.subtype,
        "condition": listing.condition,
        "title": listing.title,
        "city": listing.city,
        "district": listing.district,
        "location": listing.location,
        "price": float(listing.price),
        "currency": listing.currency,
        "price_rub": float(listing.price_rub),
        # The contract's studio is rooms 0; the seed's studio example says rooms=1 with subtype studio.
        "rooms": 0 if listing.subtype == "studio" else listing.rooms,
        "total_area": listing.total_area,
        "cover_image_url": media.url(listing.images[0] if listing.images else None),
        "created_at": listing.created_at.isoformat(),
        "updated_at": listing.updated_at.isoformat(),
    }


def property_deleted(listing: Property) -> dict[str, Any]:
    return {"property_id": listing.id, "owner_id": listing.owner_id}
