"""Payloads of the events the requests service publishes (models: event_contracts.search_requests)."""

from event_contracts.search_requests import RequestCreated
from marketplace_rules.money import to_number
from requests_service.models import SearchRequest


def request_created(request: SearchRequest) -> RequestCreated:
    return RequestCreated(
        request_id=request.id,
        buyer_id=request.owner_id,
        deal_format=request.deal_format,
        type=request.type,
        subtype=request.subtype,
        city=request.city,
        district=request.district,
        total_rooms=request.total_rooms,
        total_area_min=to_number(request.total_area_min),
        total_area_max=to_number(request.total_area_max),
        budget_min=to_number(request.budget_min),
        budget_max=to_number(request.budget_max),
        currency=request.currency,
        created_at=request.created_at,
    )
