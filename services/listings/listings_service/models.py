"""Database tables of the listings service."""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    DateTime,
    Float,
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
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from service_kit.events.tables import outbox_table, processed_events_table


class Base(DeclarativeBase):
    pass


Names = ARRAY(String(200))
Money = Numeric(18, 2)


class Property(Base):
    """A listing; enumerated columns hold canonical vocabulary codes, media columns stored file names."""

    __tablename__ = "properties"

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    owner_id: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(20), default="active")

    deal_format: Mapped[str] = mapped_column(String(30))
    type: Mapped[str] = mapped_column(String(30))
    subtype: Mapped[str | None] = mapped_column(String(30))
    condition: Mapped[str | None] = mapped_column(String(30))
    entry_year: Mapped[int | None] = mapped_column(SmallInteger)
    entry_quarter: Mapped[int | None] = mapped_column(SmallInteger)
    purpose: Mapped[str | None] = mapped_column(String(30))
    location: Mapped[str] = mapped_column(String(500))
    city: Mapped[str] = mapped_column(String(200))
    district: Mapped[str | None] = mapped_column(String(200))
    # How search compares them (marketplace_rules.places): case, spacing and ё/е do not matter.
    city_key: Mapped[str] = mapped_column(Text)
    district_key: Mapped[str | None] = mapped_column(Text)
    price: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    price_rub: Mapped[Decimal] = mapped_column(Money)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)

    floor: Mapped[int | None] = mapped_column(Integer)
    total_area: Mapped[float | None] = mapped_column(Float)
    living_area: Mapped[float | None] = mapped_column(Float)
    ceiling_height: Mapped[float | None] = mapped_column(Float)
    rooms: Mapped[int | None] = mapped_column(Integer)
    bedrooms: Mapped[int | None] = mapped_column(Integer)
    bathrooms: Mapped[int | None] = mapped_column(Integer)
    features: Mapped[list[str]] = mapped_column(Names, default=list)
    equipment: Mapped[list[str]] = mapped_column(Names, default=list)

    building_floors: Mapped[int | None] = mapped_column(Integer)
    building_living_area: Mapped[float | None] = mapped_column(Float)
    apartments: Mapped[int | None] = mapped_column(Integer)
    lifts_per_entrance: Mapped[int | None] = mapped_column(Integer)
    building_features: Mapped[list[str]] = mapped_column(Names, default=list)
    building_name: Mapped[str | None] = mapped_column(String(300))
    developer: Mapped[str | None] = mapped_column(String(300))
    materials: Mapped[str | None] = mapped_column(String(300))

    territory_area: Mapped[float | None] = mapped_column(Float)
    territory_features: Mapped[list[str]] = mapped_column(Names, default=list)
    nearby_places: Mapped[list[str]] = mapped_column(Names, default=list)
    views: Mapped[list[str]] = mapped_column(Names, default=list)
    video_title: Mapped[str | None] = mapped_column(String(300))
    video_url: Mapped[str | None] = mapped_column(String(2000))
    services: Mapped[list[str]] = mapped_column(Names, default=list)
    commission_amount: Mapped[float | None] = mapped_column(Float)
    commission_type: Mapped[str | None] = mapped_column(String(30))
    documents: Mapped[list[str]] = mapped_column(Names, default=list)

    # Stored media names; images keep the client's order and the first one is the cover.
    images: Mapped[list[str]] = mapped_column(ARRAY(String(64)), default=list)
    layout: Mapped[str | None] = mapped_column(String(64))
    building_layout: Mapped[str | None] = mapped_column(String(64))
    territory_layout: Mapped[str | None] = mapped_column(String(64))
    document_file1: Mapped[str | None] = mapped_column(String(64))
    document_file2: Mapped[str | None] = mapped_column(String(64))
    document_file3: Mapped[str | None] = mapped_column(String(64))

    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (
        Index("ix_properties_owner_created", "owner_id", "created_at"),
        # Search only ever reads active listings: partial indexes stay small.
        Index("ix_properties_active_created", "created_at", postgresql_where=text("status = 'active'")),
        Index("ix_properties_active_price", "price_rub", postgresql_where=text("status = 'active'")),
        Index(
            "ix_properties_active_kind_city_key",
            "deal_format",
            "type",
            "city_key",
            postgresql_where=text("status = 'active'"),
        ),
        Index("ix_properties_active_city_key", "city_key", postgresql_where=text("status = 'active'")),
        Index("ix_properties_status", "status"),
        Index("ix_properties_features", "features", postgresql_using="gin"),
    )


class Owner(Base):
    """Read model of listing owners, fed by user.registered/user.updated.

    On user.deleted the row becomes a tombstone: the profile is cleared and
    ``deleted_at`` set, so a late profile event cannot bring the name and phone back.
    """

    __tablename__ = "owners"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    first_name: Mapped[str | None] = mapped_column(String(100))
    last_name: Mapped[str | None] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(16))
    role: Mapped[str | None] = mapped_column(String(20))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


outbox = outbox_table(Base.metadata)
processed_events = processed_events_table(Base.metadata)
