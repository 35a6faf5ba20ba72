"""Listing use cases: create, edit, delete, read, search, and archiving a deleted owner's listings.

Each change and its event go into the caller's unit of work (outbox). Files are
written before the commit and removed again if it rolls back, so no request
leaves a half-created listing or orphan files; replaced files are removed after
the commit.
"""

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, delete, false, func, not_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from event_contracts.properties import (
    ContactRevealed,
    PropertyCreated,
    PropertyDeleted,
    PropertyState,
    PropertyUpdated,
)
from listings_service.domain.media import DOCUMENT_FIELDS, LAYOUT_FIELDS, ListingFiles
from listings_service.events.published import property_state
from listings_service.models import Owner, Property
from listings_service.schemas import SearchQuery, Sort, Status
from marketplace_rules.money import KOPECK, RateTable
from marketplace_rules.places import NoCityInAddress, city_key, city_name, city_of, district_key, listing_district_key
from marketplace_rules.vocabulary import STUDIO
from service_kit.db import UnitOfWork
from service_kit.events.outbox import Outbox
from service_kit.security import Principal
from service_kit.uploads import MediaStore

LIST_FIELDS = (
    "features",
    "equipment",
    "building_features",
    "territory_features",
    "nearby_places",
    "views",
    "services",
    "documents",
)
MAX_LIST_ITEMS = 100
MAX_LIST_ITEM_CHARS = 200
MAX_CITY_CHARS = 200
OLDEST_YEAR = 1700
YEARS_AHEAD = 20
# NUMERIC(18, 2) holds amounts below 10^16.
MAX_RUB = Decimal(10) ** 16


class PropertyNotFound(Exception):
    pass


class NotOwner(Exception):
    pass


class ContactUnavailable(Exception):
    """The owner's profile is not known here (yet), or the account is gone."""


class RevealsThrottled(Exception):
    """The caller revealed too many phones in the window."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("too many phones revealed")
        self.retry_after = retry_after


@dataclass(frozen=True)
class Contact:
    property_id: int
    owner_id: int
    first_name: str
    last_name: str
    phone: str


class InvalidListing(ValueError):
    """A listing rule (README, "Marketplace rules") is broken; ``field`` names the field to fix."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Page:
    items: Sequence[Property]
    total: int


def split_list(field: str, raw: str) -> list[str]:
    items = [item.strip() for item in raw.split(",") if item.strip()]
    if len(items) > MAX_LIST_ITEMS:
        raise InvalidListing(field, f"{field}: at most {MAX_LIST_ITEMS} items")
    if any(len(item) > MAX_LIST_ITEM_CHARS for item in items):
        raise InvalidListing(field, f"{field}: each item must be at most {MAX_LIST_ITEM_CHARS} characters")
    return items


def listing_city(location: str) -> str:
    """The city of a listing that does not name it: the one its address names."""
    try:
        city = city_of(location)
    except NoCityInAddress:
        raise InvalidListing(
            "city", "city: `location` names no city (such as 'г. Москва' or '..., Anytown'); send `city` as well"
        ) from None
    if len(city) > MAX_CITY_CHARS:
        raise InvalidListing("city", f"city: at most {MAX_CITY_CHARS} characters; send `city` as well")
    return city


def check_rules(listing: Property) -> None:
    """Cross-field rules, checked on the listing as it will be stored (so edits are checked too)."""
    if listing.entry_year is not None and not (
        OLDEST_YEAR <= listing.entry_year <= datetime.now(UTC).year + YEARS_AHEAD
    ):
        raise InvalidListing(
            "entry_year", f"entry_year must be between {OLDEST_YEAR} and {datetime.now(UTC).year + YEARS_AHEAD}"
        )
    if listing.floor is not None and listing.building_floors is not None and listing.floor > listing.building_floors:
        raise InvalidListing("floor", f"floor {listing.floor} is above building_floors {listing.building_floors}")
    if listing.living_area is not None and listing.total_area is not None and listing.living_area > listing.total_area:
        raise InvalidListing(
            "living_area", f"living_area {listing.living_area} is larger than total_area {listing.total_area}"
        )


class Listings:
    def __init__(self, *, outbox: Outbox, media: MediaStore, rates: Mapping[str, float]) -> None:
        self._outbox = outbox
        self._media = media
        self._rates = RateTable(rates)

    async def create(
        self, work: UnitOfWork, owner: Principal, fields: Mapping[str, Any], files: ListingFiles
    ) -> Property:
        listing = Property(owner_id=owner.user_id, status=Status.ACTIVE.value)
        for name in (*LIST_FIELDS, "images"):
            setattr(listing, name, [])
        self._apply(listing, fields)
        await self._store(work, listing, files, PropertyCreated)
        return listing

    async def update(
        self,
        work: UnitOfWork,
        caller: Principal,
        property_id: int,
        changes: Mapping[str, Any],
        files: ListingFiles,
    ) -> Property:
        listing = await self._own(work.session, caller, property_id)
        self._apply(listing, changes)
        await self._store(work, listing, files, PropertyUpdated)
        return listing

    async def delete(self, work: UnitOfWork, caller: Principal, property_id: int) -> None:
        """Removes the row for good (the event tells the others); its files go after the commit."""
        listing = await self._own(work.session, caller, property_id)
        names = self._file_names(listing)
        await work.session.execute(delete(Property).where(Property.id == listing.id))
        await self._outbox.add(work.session, PropertyDeleted(property_id=listing.id, owner_id=listing.owner_id))
        work.after_commit(lambda: self._delete_files(names))

    async def card(
        self, session: AsyncSession, property_id: int, viewer: Principal | None
    ) -> tuple[Property, Owner | None]:
        """An archived listing is withdrawn: only its owner still sees it. Sold ones stay public."""
        listing = await session.get(Property, property_id)
        if listing is None or (
            listing.status == Status.ARCHIVED and (viewer is None or viewer.user_id != listing.owner_id)
        ):
            raise PropertyNotFound
        return listing, await session.get(Owner, listing.owner_id)

    async def reveal_contact(self, work: UnitOfWork, viewer: Principal, property_id: int) -> Contact:
        """The owner's phone for a signed-in viewer of the card; the owner hears of it (contact.revealed)."""
        listing, owner = await self.card(work.session, property_id, viewer)
        if owner is None or owner.deleted_at is not None or owner.phone is None:
            raise ContactUnavailable
        if viewer.user_id != listing.owner_id:
            await self._outbox.add(
                work.session,
                ContactRevealed(
                    property_id=listing.id,
                    owner_id=listing.owner_id,
                    viewer_id=viewer.user_id,
                    title=listing.title,
                    revealed_at=datetime.now(UTC),
                ),
            )
        return Contact(listing.id, listing.owner_id, owner.first_name or "", owner.last_name or "", owner.phone)

    async def of_owner(self, session: AsyncSession, owner_id: int, skip: int, limit: int) -> Page:
        query = select(Property).where(Property.owner_id == owner_id)
        ordered = query.order_by(Property.created_at.desc(), Property.id.desc())
        return await self._page(session, query, ordered, skip, limit)

    async def search(self, session: AsyncSession, filters: SearchQuery, limit: int) -> Page:
        query = select(Property).where(*self._conditions(filters))
        ordered = query.order_by(*_ORDER[filters.sort])
        return await self._page(session, query, ordered, filters.skip, limit)

    async def archive_owner(self, session: AsyncSession, user_id: int) -> int:
        """The owner's account is gone: their active and sold listings leave the market.

        Runs inside the consumer's transaction; listings already archived are
        left alone, so a repeated event changes and publishes nothing.
        """
        archived = await session.scalars(
            update(Property)
            .where(Property.owner_id == user_id, Property.status != Status.ARCHIVED)
            .values(status=Status.ARCHIVED.value, updated_at=func.now())
            .returning(Property)
            .execution_options(synchronize_session=False)
        )
        count = 0
        for listing in archived.all():
            await self._outbox.add(session, property_state(PropertyUpdated, listing, self._media))
            count += 1
        return count

    def _apply(self, listing: Property, changes: Mapping[str, Any]) -> None:
        for name, value in changes.items():
            if name in LIST_FIELDS:
                value = [] if value is None else split_list(name, value)  # None: sent empty, cleared
            setattr(listing, name, value)
        if "price" in changes:
            listing.price = Decimal(str(changes["price"]))
        if "city" in changes:
            listing.city = city_name(changes["city"])
        elif "location" in changes:
            listing.city = listing_city(listing.location)
        # Search compares these keys, so a city matches however it is written (as in matching).
        listing.city_key = city_key(listing.city)
        listing.district_key = listing_district_key(listing.district, listing.location)
        listing.price_rub = self._rates.to_rub(listing.price, listing.currency)
        if listing.price.quantize(KOPECK) <= 0 or listing.price_rub <= 0:
            raise InvalidListing("price", f"price is too small: {listing.price} {listing.currency} is 0 when rounded")
        if listing.price_rub >= MAX_RUB:
            raise InvalidListing("price", f"price is too large: {listing.price_rub} RUB")
        check_rules(listing)

    async def _store(
        self, work: UnitOfWork, listing: Property, files: ListingFiles, event: type[PropertyState]
    ) -> None:
        """Saves the files and adds the listing with its event; replaced files go after the commit."""
        stored: list[str] = []
        replaced: list[str] = []
        work.after_rollback(lambda: self._delete_files(stored))
        if files.images is not None:
            replaced += listing.images or []
            for image in files.images:
                # Up to tens of MiB per request: written in a worker thread, not on the event loop.
                stored.append(await asyncio.to_thread(self._media.save, image))
            listing.images = list(stored)
        for name, file in files.singles.items():
            previous = getattr(listing, name)
            if previous:
                replaced.append(previous)
            stored.append(await asyncio.to_thread(self._media.save, file))
            setattr(listing, name, stored[-1])
        listing.updated_at = datetime.now(UTC)
        work.session.add(listing)
        await work.session.flush()
        await work.session.refresh(listing)
        await self._outbox.add(work.session, property_state(event, listing, self._media))
        work.after_commit(lambda: self._delete_files(replaced))

    async def _delete_files(self, names: Sequence[str]) -> None:
        for name in names:
            self._media.delete(name)

    async def _own(self, session: AsyncSession, caller: Principal, property_id: int) -> Property:
        # Locked so concurrent edits of one listing apply one after the other.
        listing = await session.scalar(select(Property).where(Property.id == property_id).with_for_update())
        if listing is None:
            raise PropertyNotFound
        if listing.owner_id != caller.user_id:
            raise NotOwner
        return listing

    @staticmethod
    def _file_names(listing: Property) -> list[str]:
        singles = [getattr(listing, name) for name in (*LAYOUT_FIELDS, *DOCUMENT_FIELDS)]
        return [*(listing.images or []), *(name for name in singles if name)]

    def _conditions(self, filters: SearchQuery) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = [Property.status == Status.ACTIVE.value]
        for name in ("deal_format", "type", "subtype"):
            value = getattr(filters, name)
            if value is not None:
                conditions.append(getattr(Property, name) == value)
        if filters.city is not None:
            conditions.append(Property.city_key == city_key(filters.city))
        if filters.district is not None:
            conditions.append(Property.district_key == district_key(filters.district))
        if filters.price_min is not None:
            conditions.append(Property.price_rub >= self._rates.to_rub(filters.price_min, filters.currency))
        if filters.price_max is not None:
            conditions.append(Property.price_rub <= self._rates.to_rub(filters.price_max, filters.currency))
        if filters.area_min is not None:
            conditions.append(Property.total_area >= filters.area_min)
        if filters.area_max is not None:
            conditions.append(Property.total_area <= filters.area_max)
        if filters.rooms is not None:
            # A studio is 0 rooms whatever was stored (the seed's studio says rooms=1), as in the events.
            is_studio = func.coalesce(Property.subtype == STUDIO, false())
            if filters.rooms == 0:
                conditions.append(or_(Property.rooms == 0, is_studio))
            else:
                conditions.append(and_(Property.rooms == filters.rooms, not_(is_studio)))
        if filters.features:
            conditions.append(Property.features.contains(split_list("features", filters.features)))
        return conditions

    @staticmethod
    async def _page(
        session: AsyncSession, query: Select[Property], ordered: Select[Property], skip: int, limit: int
    ) -> Page:
        total = await session.scalar(select(func.count()).select_from(query.subquery()))
        items = (await session.scalars(ordered.offset(skip).limit(limit))).all()
        return Page(items=items, total=total or 0)


# The id breaks ties, so pages never repeat or skip a listing.
_ORDER: dict[Sort, tuple[Any, ...]] = {
    Sort.NEWEST: (Property.created_at.desc(), Property.id.desc()),
    Sort.OLDEST: (Property.created_at.asc(), Property.id.asc()),
    Sort.PRICE_ASC: (Property.price_rub.asc(), Property.id.desc()),
    Sort.PRICE_DESC: (Property.price_rub.desc(), Property.id.desc()),
    Sort.AREA_ASC: (Property.total_area.asc().nulls_last(), Property.id.desc()),
    Sort.AREA_DESC: (Property.total_area.desc().nulls_last(), Property.id.desc()),
}
