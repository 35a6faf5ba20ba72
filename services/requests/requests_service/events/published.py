"""Payloads of the events the requests service publishes (schemas: contracts/events/request.*.json)."""

from datetime import datetime
from typing import Any

from requests_service.models import SearchRequest


def number_or_none(value: object) -> float | None:
    """Decimal columns as JSON numbers."""
    return None if value is None else float(str(value))


def request_created(request: SearchRequest) -> dict[str, Any]:
    return {
        "request_id": request.id,
        "buyer_id": request.owner_id,
        "deal_format": request.deal_format,
        "type": request.type,
        "subtype": request.subtype,
        "city": request.city,
        "district": request.district,
        "total_rooms": request.total_rooms,
        "total_area_min": number_or_none(request.total_area_min),
        "total_area_max": number_or_none(request.total_area_max),
        "budget_min": number_or_none(request.budget_min),
        "budget_max": number_or_none(request.budget_max),
        "currency": request.currency,
        "created_at": request.created_at.isoformat(),
    }


def request_matched(
    request_id: int, buyer_id: int, property_id: int, seller_id: int, matched_at: datetime
) -> dict[str, Any]:
    return {
        "request_id": request_id,
        "buyer_id": buyer_id,
        "property_id": property_id,
        "seller_id": seller_id,
        "matched_at": matched_at.isoformat(),
    }
