"""Buyer requests: create, read, edit, close and delete one's own, and read their matches.

Every change is matched in the caller's unit of work, together with its events
(outbox). Someone else's request answers exactly like a missing one.
"""

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails
from sqlalchemy import Row, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace_rules.money import RateTable, to_decimal, to_number
from marketplace_rules.places import city_key, district_key
from marketplace_rules.vocabulary import rooms_range
from requests_service.domain.matching import lock_criteria, rematch_request
from requests_service.events.published import request_created
from requests_service.models import Listing, Match, SearchRequest
from requests_service.schemas import RequestChanges, RequestIn
from service_kit.db import UnitOfWork
from service_kit.events.outbox import Outbox


class RequestNotFound(Exception):
    pass


class InvalidChanges(Exception):
    """The edit would leave the request invalid as a whole; ``errors`` are pydantic's."""

    def __init__(self, errors: list[ErrorDetails]) -> None:
        super().__init__("invalid changes")
        self.errors = errors


# Stored as Decimal, so not copied from the (float) input as they are.
_AMOUNTS = {"budget_min", "budget_max", "total_area_min", "total_area_max"}


def criteria_of(request: SearchRequest) -> dict[str, Any]:
    """The stored request as RequestIn input (canonical codes parse as themselves)."""
    return {
        "city": request.city,
        "district": request.district,
        "deal_format": request.deal_format,
        "type": request.type,
        "subtype": request.subtype,
        "condition": request.condition,
        "construction_year": request.construction_year,
        "construction_quarter": request.construction_quarter,
        "total_rooms": request.total_rooms,
        "total_area_min": to_number(request.total_area_min),
        "total_area_max": to_number(request.total_area_max),
        "budget_min": to_number(request.budget_min),
        "budget_max": to_number(request.budget_max),
        "currency": request.currency,
        "purchase_purpose": request.purchase_purpose,
        "urgency": request.urgency,
        "purchase_method": request.purchase_method,
        "mortgage_approved": request.mortgage_approved,
        "wishes": request.wishes,
    }


class BuyerRequests:
    def __init__(self, *, outbox: Outbox, rates: Mapping[str, float]) -> None:
        self.outbox = outbox
        self._rates = RateTable(rates)

    def _rub(self, amount: Decimal | None, currency: str) -> Decimal | None:
        return None if amount is None else self._rates.to_rub(amount, currency)

    def _apply(self, request: SearchRequest, criteria: RequestIn) -> None:
        # Converted before any attribute is set, so an unknown rate leaves the row untouched.
        budget_min, budget_max = to_decimal(criteria.budget_min), to_decimal(criteria.budget_max)
        budget_min_rub = self._rub(budget_min, criteria.currency)
        budget_max_rub = self._rub(budget_max, criteria.currency)
        for name, value in criteria.model_dump(exclude=_AMOUNTS).items():
            setattr(request, name, value)
        request.total_area_min = to_decimal(criteria.total_area_min)
        request.total_area_max = to_decimal(criteria.total_area_max)
        request.budget_min, request.budget_max = budget_min, budget_max
        request.budget_min_rub, request.budget_max_rub = budget_min_rub, budget_max_rub
        request.city_key = city_key(criteria.city)
        request.district_key = district_key(criteria.district)
        request.rooms_min, request.rooms_max = rooms_range(criteria.total_rooms)

    async def _lock(self, session: AsyncSession, request: SearchRequest) -> None:
        await lock_criteria(session, request.deal_format, request.type, request.city_key)

    @staticmethod
    def _criteria_key(request: SearchRequest) -> tuple[str, str, str]:
        return request.deal_format, request.type, request.city_key

    async def create(self, work: UnitOfWork, owner_id: int, criteria: RequestIn) -> tuple[SearchRequest, int]:
        session = work.session
        request = SearchRequest(owner_id=owner_id, status="open")
        self._apply(request, criteria)
        await self._lock(session, request)
        session.add(request)
        await session.flush()
        await session.refresh(request)
        await self.outbox.add(session, request_created(request))
        matches = await rematch_request(session, self.outbox, request.id)
        return request, len(matches)

    def _match_count(self) -> Any:
        return (
            select(func.count())
            .select_from(Match)
            .join(Listing, Listing.property_id == Match.property_id)
            .where(Match.request_id == SearchRequest.id, Listing.status == "active")
            .correlate(SearchRequest)
            .scalar_subquery()
        )

    async def list_own(
        self, session: AsyncSession, owner_id: int, skip: int, limit: int
    ) -> Sequence[Row[SearchRequest, int]]:
        return (
            await session.execute(
                select(SearchRequest, self._match_count())
                .where(SearchRequest.owner_id == owner_id)
                .order_by(SearchRequest.id.desc())
                .offset(skip)
                .limit(limit)
            )
        ).all()

    async def get_own(self, session: AsyncSession, owner_id: int, request_id: int) -> tuple[SearchRequest, int]:
        row = (
            await session.execute(
                select(SearchRequest, self._match_count()).where(
                    SearchRequest.id == request_id, SearchRequest.owner_id == owner_id
                )
            )
        ).first()
        if row is None:
            raise RequestNotFound
        return row[0], row[1]

    async def _own_for_update(self, session: AsyncSession, owner_id: int, request_id: int) -> SearchRequest:
        # FOR NO KEY UPDATE: it serialises edits of one request, yet still lets a listing being
        # matched under the advisory lock insert into `matches` (whose foreign key check takes
        # KEY SHARE on this row). FOR UPDATE would block that insert while this edit waits for
        # the advisory lock the insert's transaction holds: a deadlock.
        request = await session.scalar(
            select(SearchRequest)
            .where(SearchRequest.id == request_id, SearchRequest.owner_id == owner_id)
            .with_for_update(key_share=True)
        )
        if request is None:
            raise RequestNotFound
        return request

    async def update(
        self, work: UnitOfWork, owner_id: int, request_id: int, changes: RequestChanges
    ) -> tuple[SearchRequest, int]:
        """Applies the sent fields; the result is validated as a whole (ranges across old and new)."""
        session = work.session
        sent = changes.model_dump(exclude_unset=True)
        status = sent.pop("status", None)
        request = await self._own_for_update(session, owner_id, request_id)
        try:
            criteria = RequestIn.model_validate(criteria_of(request) | sent)
        except ValidationError as error:
            raise InvalidChanges(error.errors(include_url=False, include_context=False)) from None
        before = self._criteria_key(request)
        self._apply(request, criteria)
        if status is not None:
            request.status = status
        # Both the criteria it leaves and the ones it joins: a listing matched under the old
        # key concurrently would otherwise record a match this edit's rematch never sees.
        # Always in sorted order, so two edits crossing the same keys cannot deadlock.
        with session.no_autoflush:
            for key in sorted({before, self._criteria_key(request)}):
                await lock_criteria(session, *key)
        await session.flush()
        await rematch_request(session, self.outbox, request.id)
        return await self.get_own(session, owner_id, request_id)

    async def delete(self, work: UnitOfWork, owner_id: int, request_id: int) -> None:
        deleted = await work.session.scalar(
            delete(SearchRequest)
            .where(SearchRequest.id == request_id, SearchRequest.owner_id == owner_id)
            .returning(SearchRequest.id)
        )
        if deleted is None:
            raise RequestNotFound

    async def matches(
        self, session: AsyncSession, owner_id: int, request_id: int, skip: int, limit: int
    ) -> Sequence[Row[Listing, datetime]]:
        await self.get_own(session, owner_id, request_id)
        return (
            await session.execute(
                select(Listing, Match.matched_at)
                .join(Match, Match.property_id == Listing.property_id)
                .where(Match.request_id == request_id, Listing.status == "active")
                .order_by(Match.matched_at.desc(), Listing.property_id.desc())
                .offset(skip)
                .limit(limit)
            )
        ).all()


async def forget_buyer(session: AsyncSession, buyer_id: int) -> None:
    """user.deleted: the buyer's requests go, and their matches with them."""
    await session.execute(delete(SearchRequest).where(SearchRequest.owner_id == buyer_id))
