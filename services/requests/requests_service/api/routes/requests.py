"""Seed endpoints 11 and 12 and the rest of a buyer's own requests, under /users; role user only."""

from typing import Annotated, Literal, cast

from fastapi import APIRouter, Path, Query, status

from marketplace_rules.money import to_number
from requests_service.api.deps import Buyer, Container, ReadSession, UnitOfWorkDep
from requests_service.models import Listing, SearchRequest
from requests_service.schemas import MatchOut, Message, RequestChanges, RequestIn, RequestOut
from service_kit.errors import error_responses

router = APIRouter(prefix="/users", tags=["requests"])

RequestId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Skip = Annotated[int, Query(ge=0, le=1_000_000)]
Limit = Annotated[int, Query(ge=1, le=100)]

_BUYERS_ONLY = (status.HTTP_403_FORBIDDEN, "Only buyers (role user; code `role_forbidden`)")
_NOT_FOUND = (status.HTTP_404_NOT_FOUND, "No such request of yours")
_JSON_BODY = (status.HTTP_413_CONTENT_TOO_LARGE, "The body is larger than 1 MiB (refused by the gateway)")
BUYERS_ONLY = error_responses(_BUYERS_ONLY)
NOT_FOUND = error_responses(_BUYERS_ONLY, _NOT_FOUND)


def request_out(request: SearchRequest, match_count: int) -> RequestOut:
    return RequestOut(
        id=request.id,
        buyer_id=request.owner_id,
        status=cast(Literal["open", "closed"], request.status),
        city=request.city,
        district=request.district,
        deal_format=request.deal_format,
        type=request.type,
        subtype=request.subtype,
        condition=request.condition,
        construction_year=request.construction_year,
        construction_quarter=request.construction_quarter,
        total_rooms=request.total_rooms,
        total_area_min=to_number(request.total_area_min),
        total_area_max=to_number(request.total_area_max),
        budget_min=to_number(request.budget_min),
        budget_max=to_number(request.budget_max),
        currency=request.currency,
        purchase_purpose=request.purchase_purpose,
        urgency=request.urgency,
        purchase_method=request.purchase_method,
        mortgage_approved=request.mortgage_approved,
        wishes=request.wishes,
        match_count=match_count,
        created_at=request.created_at,
        updated_at=request.updated_at,
    )


def match_out(listing: Listing, matched_at: object) -> MatchOut:
    return MatchOut.model_validate(
        {
            "id": listing.property_id,
            "property_id": listing.property_id,
            "title": listing.title,
            "price": float(listing.price),
            "currency": listing.currency,
            "price_rub": float(listing.price_rub),
            "city": listing.city,
            "district": listing.district,
            "rooms": listing.rooms,
            "total_area": to_number(listing.total_area),
            "cover_image_url": listing.cover_image_url,
            "matched_at": matched_at,
        }
    )


@router.post(
    "/create_request", status_code=status.HTTP_201_CREATED, responses=error_responses(_BUYERS_ONLY, _JSON_BODY)
)
async def create_request(body: RequestIn, buyer: Buyer, work: UnitOfWorkDep, container: Container) -> RequestOut:
    """Seed #11: the Russian phrases of the seed or English codes; stored as canonical codes.

    The request is matched at once against the active listings already known.
    """
    request, match_count = await container.requests.create(work, buyer.user_id, body)
    return request_out(request, match_count)


@router.get("/my_requests", responses=BUYERS_ONLY)
async def my_requests(
    buyer: Buyer, session: ReadSession, container: Container, skip: Skip = 0, limit: Limit = 50
) -> list[RequestOut]:
    """Seed #12: the caller's requests, newest first, each with its number of matches."""
    rows = await container.requests.list_own(session, buyer.user_id, skip, limit)
    return [request_out(request, count) for request, count in rows]


@router.get("/my_requests/{request_id}", responses=NOT_FOUND)
async def my_request(request_id: RequestId, buyer: Buyer, session: ReadSession, container: Container) -> RequestOut:
    return request_out(*await container.requests.get_own(session, buyer.user_id, request_id))


@router.patch("/my_requests/{request_id}", responses=error_responses(_BUYERS_ONLY, _NOT_FOUND, _JSON_BODY))
async def edit_request(
    request_id: RequestId, body: RequestChanges, buyer: Buyer, work: UnitOfWorkDep, container: Container
) -> RequestOut:
    """Changes the fields sent (null clears an optional one); `status` closes or reopens it.

    Matches the edited request no longer fits are dropped and new ones recorded.
    """
    return request_out(*await container.requests.update(work, buyer.user_id, request_id, body))


@router.delete("/my_requests/{request_id}", responses=NOT_FOUND)
async def delete_request(request_id: RequestId, buyer: Buyer, work: UnitOfWorkDep, container: Container) -> Message:
    await container.requests.delete(work, buyer.user_id, request_id)
    return Message(message="Request deleted successfully")


@router.get("/my_requests/{request_id}/matches", responses=NOT_FOUND)
async def request_matches(
    request_id: RequestId, buyer: Buyer, session: ReadSession, container: Container, skip: Skip = 0, limit: Limit = 50
) -> list[MatchOut]:
    """Active listings that fit the request, newest match first."""
    rows = await container.requests.matches(session, buyer.user_id, request_id, skip, limit)
    return [match_out(listing, matched_at) for listing, matched_at in rows]
