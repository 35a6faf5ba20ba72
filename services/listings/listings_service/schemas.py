"""Request and response bodies of the listings API (field names follow seed #9)."""

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from marketplace_rules.text import Text
from marketplace_rules.vocabulary import vocabulary


class Status(StrEnum):
    ACTIVE = "active"
    ARCHIVED = "archived"
    SOLD = "sold"


class Sort(StrEnum):
    NEWEST = "newest"
    OLDEST = "oldest"
    PRICE_ASC = "price_asc"
    PRICE_DESC = "price_desc"
    AREA_ASC = "area_asc"
    AREA_DESC = "area_desc"


_DEAL_FORMAT = vocabulary("deal_format")
_TYPE = vocabulary("type")
_SUBTYPE = vocabulary("subtype")
_CONDITION = vocabulary("condition")
_PURPOSE = vocabulary("purpose")
_CURRENCY = vocabulary("currency")
_COMMISSION_TYPE = vocabulary("commission_type")

# Canonical codes; the seed's English codes and Russian phrases are accepted too.
DealFormat = Annotated[str, _DEAL_FORMAT.validator(), Field(description=f"One of {_DEAL_FORMAT.allowed()}")]
PropertyType = Annotated[str, _TYPE.validator(), Field(description=f"One of {_TYPE.allowed()}")]
Subtype = Annotated[str, _SUBTYPE.validator(), Field(description=f"One of {_SUBTYPE.allowed()}")]
Condition = Annotated[str, _CONDITION.validator(), Field(description=f"One of {_CONDITION.allowed()}")]
Purpose = Annotated[str, _PURPOSE.validator(), Field(description=f"One of {_PURPOSE.allowed()}")]
Currency = Annotated[str, _CURRENCY.validator(), Field(description=f"One of {_CURRENCY.allowed()}")]
CommissionType = Annotated[str, _COMMISSION_TYPE.validator(), Field(description=f"One of {_COMMISSION_TYPE.allowed()}")]

Line = Annotated[str, Text(300, min_length=1)]
Address = Annotated[str, Text(500, min_length=1)]
Place = Annotated[str, Text(200, min_length=1)]
LongText = Annotated[str, Text(20_000, strip=False)]
CommaList = Annotated[str, Text(5_000, strip=False), Field(description="Comma-separated, e.g. 'kitchen,balcony'")]
Url = Annotated[str, Text(2_000, pattern=r"^https?://\S+$")]
Count = Annotated[int, Field(ge=0, le=100_000)]
Area = Annotated[float, Field(gt=0, le=100_000_000)]
# Bounded so the RUB amount always fits its NUMERIC(18, 2) column.
Price = Annotated[float, Field(gt=0, le=1e12)]
Bound = Annotated[float, Field(ge=0, le=1e12)]


class _Input(BaseModel):
    """Client input: no NaN or infinity; text fields refuse what the database cannot store (Text)."""

    model_config = ConfigDict(allow_inf_nan=False)


class ListingFields(_Input):
    """Every text and number field of seed #9; all optional so PUT/PATCH can reuse it."""

    deal_format: DealFormat | None = None
    type: PropertyType | None = None
    subtype: Subtype | None = None
    condition: Condition | None = None
    entry_year: int | None = Field(default=None, description="Year of completion")
    entry_quarter: int | None = Field(default=None, ge=1, le=4)
    purpose: Purpose | None = None
    location: Address | None = None
    city: Place | None = Field(
        default=None,
        description=(
            "A 'г.'/'город' prefix is dropped. Defaults to the city `location` names: its part marked 'г.'/'город', "
            "else its last part that is not a street, house, district or country ('123 Main St, Anytown'); "
            "refused (422) when there is none"
        ),
    )
    district: Place | None = Field(
        default=None,
        description=(
            "When absent, search and matching use the district `location` names "
            "('Москва, Центральный район, ул. Тверская, 1', '..., р-н Хамовники, ...', '..., ЦАО, ...')"
        ),
    )
    price: Price | None = None
    currency: Currency | None = None
    title: Line | None = None
    description: LongText | None = None
    floor: int | None = Field(default=None, ge=-10, le=1000)
    total_area: Area | None = None
    living_area: Area | None = None
    ceiling_height: float | None = Field(default=None, gt=0, le=100)
    rooms: Count | None = Field(default=None, description="0 means a studio")
    bedrooms: Count | None = None
    bathrooms: Count | None = None
    features: CommaList | None = None
    equipment: CommaList | None = None
    building_floors: int | None = Field(default=None, ge=1, le=1000)
    building_living_area: Area | None = None
    apartments: Count | None = None
    lifts_per_entrance: Count | None = None
    building_features: CommaList | None = None
    building_name: Line | None = None
    developer: Line | None = None
    materials: Line | None = None
    territory_area: Area | None = None
    territory_features: CommaList | None = None
    nearby_places: CommaList | None = None
    views: CommaList | None = None
    video_title: Line | None = None
    video_url: Url | None = None
    services: CommaList | None = None
    commission_amount: Bound | None = None
    commission_type: CommissionType | None = None
    documents: CommaList | None = None


# Fields a listing may lack, so an edit may clear them (sent empty); the rest are required.
CLEARABLE_FIELDS = tuple(
    name
    for name in ListingFields.model_fields
    if name not in {"deal_format", "type", "location", "city", "price", "currency", "title"}
)


class ListingCreate(ListingFields):
    deal_format: DealFormat
    type: PropertyType
    location: Address
    price: Price
    currency: Currency
    title: Line


class ListingUpdate(ListingFields):
    """Fields sent are changed, the others kept."""

    status: Status | None = None


class PropertyOut(BaseModel):
    id: int
    owner_id: int
    status: Status
    deal_format: str
    type: str
    subtype: str | None
    condition: str | None
    entry_year: int | None
    entry_quarter: int | None
    purpose: str | None
    location: str
    city: str
    district: str | None
    price: float
    currency: str
    price_rub: float = Field(description="price converted with the service's rate table")
    title: str
    description: str | None
    floor: int | None
    total_area: float | None
    living_area: float | None
    ceiling_height: float | None
    rooms: int | None
    bedrooms: int | None
    bathrooms: int | None
    features: list[str]
    equipment: list[str]
    building_floors: int | None
    building_living_area: float | None
    apartments: int | None
    lifts_per_entrance: int | None
    building_features: list[str]
    building_name: str | None
    developer: str | None
    materials: str | None
    territory_area: float | None
    territory_features: list[str]
    nearby_places: list[str]
    views: list[str]
    video_title: str | None
    video_url: str | None
    services: list[str]
    commission_amount: float | None
    commission_type: str | None
    documents: list[str]
    images: list[str] = Field(description="Image URLs in the owner's order")
    cover_image_url: str | None = Field(description="The first image")
    layout: str | None = Field(description="URL of the flat's layout")
    building_layout: str | None = Field(description="URL of the building's layout")
    territory_layout: str | None = Field(description="URL of the territory's layout")
    document_file1: str | None = Field(description="URL of document 1; shown to the owner only")
    document_file2: str | None = Field(description="URL of document 2; shown to the owner only")
    document_file3: str | None = Field(description="URL of document 3; shown to the owner only")
    layout_url: str | None = Field(deprecated="Use `layout`", description="Same as `layout`")
    building_layout_url: str | None = Field(deprecated="Use `building_layout`", description="Same as `building_layout`")
    territory_layout_url: str | None = Field(
        deprecated="Use `territory_layout`", description="Same as `territory_layout`"
    )
    document_file_urls: list[str] = Field(
        deprecated="Use `document_file1`..`document_file3`",
        description="The document URLs there are; shown to the owner only",
    )
    created_at: datetime
    updated_at: datetime


class OwnerOut(BaseModel):
    """The owner as the card shows them; the phone only through POST /properties/{id}/contact."""

    id: int
    first_name: str | None
    last_name: str | None
    role: str | None


class ContactOut(BaseModel):
    property_id: int
    owner_id: int
    first_name: str
    last_name: str
    phone: str = Field(description="E.164")


class PropertyCard(PropertyOut):
    owner: OwnerOut


class PropertyPage(BaseModel):
    items: list[PropertyOut]
    total: int


class Message(BaseModel):
    message: str


class SearchQuery(_Input):
    """Filters of GET /properties; only active listings are searched."""

    deal_format: DealFormat | None = None
    type: PropertyType | None = None
    subtype: Subtype | None = None
    city: Place | None = Field(default=None, description="Case, spacing, ё/е and a 'г.' prefix do not matter")
    district: Place | None = Field(
        default=None,
        description="Case, spacing, ё/е and a marker word do not matter: 'Центральный', 'Центральный район', "
        "'р-н Центральный' and 'ЦАО' are one district; listings without one are found by their address's",
    )
    price_min: Bound | None = Field(default=None, description="In `currency`, converted to RUB")
    price_max: Bound | None = Field(default=None, description="In `currency`, converted to RUB")
    currency: Currency = Field(default="RUB", description="Currency of price_min and price_max")
    area_min: Bound | None = Field(default=None, description="Total area, m²")
    area_max: Bound | None = Field(default=None, description="Total area, m²")
    rooms: Count | None = Field(default=None, description="0 means a studio")
    features: CommaList | None = Field(default=None, description="Listings having all of these")
    sort: Sort = Sort.NEWEST
    skip: int = Field(default=0, ge=0, le=1_000_000)
    limit: int = Field(default=20, ge=1, description="Capped at the configured maximum (100)")
