"""Matching in SQL (README, "Marketplace rules"): which active listings satisfy which open requests.

Both directions use one predicate. A listing change and a request change that
concern the same (deal format, type, city) take one advisory lock, so two
concurrent transactions cannot each miss the row the other is inserting.
Matches that stop holding (archived listing, edited request or price) are
removed; a new pair is inserted once and announced with ``request.matched``.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, false, func, not_, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from event_contracts.search_requests import MatchedListing, MatchedRequest, RequestMatched
from marketplace_rules.money import to_number
from requests_service.models import Listing, Match, SearchRequest
from service_kit.events.outbox import Outbox

Column = InstrumentedAttribute[Any]


def _at_least(value: Column, bound: Column) -> ColumnElement[bool]:
    return or_(bound.is_(None), and_(value.is_not(None), value >= bound))


def _at_most(value: Column, bound: Column) -> ColumnElement[bool]:
    return or_(bound.is_(None), and_(value.is_not(None), value <= bound))


def _same_when_asked(value: Column, asked: Column) -> ColumnElement[bool]:
    return or_(asked.is_(None), and_(value.is_not(None), value == asked))


def listing_satisfies_request() -> ColumnElement[bool]:
    """True or false (never NULL) for a joined SearchRequest and Listing row."""
    return and_(
        Listing.status == "active",
        Listing.deal_format == SearchRequest.deal_format,
        Listing.type == SearchRequest.type,
        Listing.city_key == SearchRequest.city_key,
        _same_when_asked(Listing.district_key, SearchRequest.district_key),
        _at_least(Listing.price_rub, SearchRequest.budget_min_rub),
        _at_most(Listing.price_rub, SearchRequest.budget_max_rub),
        _at_least(Listing.total_area, SearchRequest.total_area_min),
        _at_most(Listing.total_area, SearchRequest.total_area_max),
        # Studio is 0..0, "2" is 2..2, "4+" is 4..none; a listing without a room count never fits.
        _at_least(Listing.rooms, SearchRequest.rooms_min),
        _at_most(Listing.rooms, SearchRequest.rooms_max),
        Listing.owner_id != SearchRequest.owner_id,
    )


async def lock_criteria(session: AsyncSession, deal_format: str, type_: str, city_key: str) -> None:
    """Serialises matching work on one (deal format, type, city) until the transaction ends."""
    await session.execute(select(func.pg_advisory_xact_lock(func.hashtext(f"{deal_format}|{type_}|{city_key}"))))


@dataclass(frozen=True)
class NewMatch:
    request_id: int
    buyer_id: int
    property_id: int
    seller_id: int
    matched_at: datetime
    listing: MatchedListing
    request: MatchedRequest


async def _drop_stale(session: AsyncSession, scope: ColumnElement[bool]) -> None:
    await session.execute(
        delete(Match).where(
            scope,
            Match.request_id == SearchRequest.id,
            Match.property_id == Listing.property_id,
            not_(func.coalesce(listing_satisfies_request(), false())),
        )
    )


async def _insert_new(session: AsyncSession, outbox: Outbox, scope: ColumnElement[bool]) -> list[NewMatch]:
    candidates = select(SearchRequest.id, Listing.property_id).where(
        scope, SearchRequest.status == "open", listing_satisfies_request()
    )
    inserted = (
        insert(Match)
        .from_select(["request_id", "property_id"], candidates)
        .on_conflict_do_nothing()
        .returning(Match.request_id, Match.property_id, Match.matched_at)
        .cte("inserted")
    )
    rows = await session.execute(
        select(inserted.c.request_id, inserted.c.property_id, inserted.c.matched_at, SearchRequest, Listing)
        .join(SearchRequest, SearchRequest.id == inserted.c.request_id)
        .join(Listing, Listing.property_id == inserted.c.property_id)
    )
    matches = [
        NewMatch(
            request_id,
            request.owner_id,
            property_id,
            listing.owner_id,
            matched_at,
            # What each side is told of the other (the notifications service has no copy of either).
            MatchedListing(
                title=listing.title,
                city=listing.city,
                price=float(listing.price),
                currency=listing.currency,
                rooms=listing.rooms,
            ),
            MatchedRequest(
                city=request.city,
                district=request.district,
                total_rooms=request.total_rooms,
                budget_min=to_number(request.budget_min),
                budget_max=to_number(request.budget_max),
                currency=request.currency,
            ),
        )
        for request_id, property_id, matched_at, request, listing in rows
    ]
    for match in matches:
        await outbox.add(
            session,
            RequestMatched(
                request_id=match.request_id,
                buyer_id=match.buyer_id,
                property_id=match.property_id,
                seller_id=match.seller_id,
                matched_at=match.matched_at,
                listing=match.listing,
                request=match.request,
            ),
        )
    return matches


async def rematch_listing(session: AsyncSession, outbox: Outbox, property_id: int) -> list[NewMatch]:
    """After a listing changed: drop matches it no longer satisfies, record the new ones."""
    scope = Match.property_id == property_id
    await _drop_stale(session, scope)
    return await _insert_new(session, outbox, Listing.property_id == property_id)


async def rematch_request(session: AsyncSession, outbox: Outbox, request_id: int) -> list[NewMatch]:
    """After a request was created or edited: the same, from the request's side."""
    await _drop_stale(session, Match.request_id == request_id)
    return await _insert_new(session, outbox, SearchRequest.id == request_id)
