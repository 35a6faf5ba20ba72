"""Database tables of the requests service: buyer requests, the listings read model, matches."""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from service_kit.events.tables import outbox_table, processed_events_table

Money = Numeric(20, 2)
Area = Numeric(12, 2)


class Base(DeclarativeBase):
    pass


class SearchRequest(Base):
    """A buyer's search request ("заявка"); enumerated fields hold canonical codes."""

    __tablename__ = "search_requests"

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    owner_id: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(10), default="open")  # open | closed
    city: Mapped[str] = mapped_column(String(100))
    # Normalised city and district (case, spaces, ё), compared with the listings' keys.
    city_key: Mapped[str] = mapped_column(Text)
    district: Mapped[str | None] = mapped_column(String(100))
    district_key: Mapped[str | None] = mapped_column(Text)
    deal_format: Mapped[str] = mapped_column(String(20))
    type: Mapped[str] = mapped_column(String(20))
    subtype: Mapped[str | None] = mapped_column(String(20))
    condition: Mapped[str | None] = mapped_column(String(30))
    construction_year: Mapped[int | None] = mapped_column(SmallInteger)
    construction_quarter: Mapped[int | None] = mapped_column(SmallInteger)
    # "studio", "2" or "4+" as the buyer asked; rooms_min/max is that as a range (studio = 0).
    total_rooms: Mapped[str | None] = mapped_column(String(10))
    rooms_min: Mapped[int | None] = mapped_column(SmallInteger)
    rooms_max: Mapped[int | None] = mapped_column(SmallInteger)
    total_area_min: Mapped[Decimal | None] = mapped_column(Area)
    total_area_max: Mapped[Decimal | None] = mapped_column(Area)
    budget_min: Mapped[Decimal | None] = mapped_column(Money)
    budget_max: Mapped[Decimal | None] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    # The budget in RUB at the rates of the time it was set; listings are compared on price_rub.
    budget_min_rub: Mapped[Decimal | None] = mapped_column(Money)
    budget_max_rub: Mapped[Decimal | None] = mapped_column(Money)
    purchase_purpose: Mapped[str | None] = mapped_column(String(30))
    urgency: Mapped[str | None] = mapped_column(String(30))
    purchase_method: Mapped[str | None] = mapped_column(String(30))
    mortgage_approved: Mapped[bool | None] = mapped_column(Boolean)
    wishes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )

    __table_args__ = (
        Index("ix_search_requests_owner", "owner_id", "id"),
        Index(
            "ix_search_requests_open_criteria",
            "deal_format",
            "type",
            "city_key",
            postgresql_where=text("status = 'open'"),
        ),
    )


class Listing(Base):
    """Read model of the listings service's properties, kept from property.* events."""

    __tablename__ = "listings"

    property_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    owner_id: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(10))  # active | archived | sold
    deal_format: Mapped[str] = mapped_column(String(20))
    type: Mapped[str] = mapped_column(String(20))
    subtype: Mapped[str | None] = mapped_column(String(20))
    condition: Mapped[str | None] = mapped_column(String(30))
    title: Mapped[str] = mapped_column(Text)
    city: Mapped[str] = mapped_column(Text)
    city_key: Mapped[str] = mapped_column(Text)
    district: Mapped[str | None] = mapped_column(Text)
    district_key: Mapped[str | None] = mapped_column(Text)
    price: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    price_rub: Mapped[Decimal] = mapped_column(Money)
    rooms: Mapped[int | None] = mapped_column(SmallInteger)
    total_area: Mapped[Decimal | None] = mapped_column(Area)
    cover_image_url: Mapped[str | None] = mapped_column(Text)
    listed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The listing's own change time: an older event never overwrites a newer state.
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index(
            "ix_listings_active_criteria",
            "deal_format",
            "type",
            "city_key",
            "price_rub",
            postgresql_where=text("status = 'active'"),
        ),
    )


class DeletedListing(Base):
    """Tombstones, so a late property.created/updated cannot bring a deleted listing back."""

    __tablename__ = "deleted_listings"

    property_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    deleted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Match(Base):
    """A listing that satisfies a request; recorded once per pair."""

    __tablename__ = "matches"

    request_id: Mapped[int] = mapped_column(ForeignKey("search_requests.id", ondelete="CASCADE"), primary_key=True)
    property_id: Mapped[int] = mapped_column(ForeignKey("listings.property_id", ondelete="CASCADE"), primary_key=True)
    matched_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        Index("ix_matches_property", "property_id"),
        Index("ix_matches_request_newest", "request_id", text("matched_at DESC")),
    )


outbox = outbox_table(Base.metadata)
processed_events = processed_events_table(Base.metadata)
