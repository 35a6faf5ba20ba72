"""Request and response bodies of the requests API (seed #11 and #12 shapes)."""

from datetime import datetime
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, JsonValue, model_validator

from marketplace_rules.text import Text
from marketplace_rules.vocabulary import parse_rooms, vocabulary


def _blank_to_none(raw: Any) -> Any:
    return None if isinstance(raw, str) and not raw.strip() else raw


def _code(field: str, description: str, default: Any = None) -> Any:
    """A vocabulary field: Russian phrases or English codes in, the canonical code stored."""
    return Field(default, description=f"{description}; one of {vocabulary(field).allowed()} or a Russian phrase")


Place = Annotated[str, Text(100, min_length=1)]
OptionalPlace = Annotated[Place | None, BeforeValidator(_blank_to_none)]
DealFormat = Annotated[str, vocabulary("deal_format").validator()]
PropertyType = Annotated[str, vocabulary("type").validator()]
Subtype = Annotated[str | None, vocabulary("subtype").validator()]
Condition = Annotated[str | None, vocabulary("condition").validator()]
Currency = Annotated[str, vocabulary("currency").validator()]
Purpose = Annotated[str | None, vocabulary("purpose").validator()]
Urgency = Annotated[str | None, vocabulary("urgency").validator()]
PurchaseMethod = Annotated[str | None, vocabulary("purchase_method").validator()]
Rooms = Annotated[str | None, BeforeValidator(parse_rooms)]
Year = Annotated[int, Field(ge=1800, le=2100)]
Quarter = Annotated[int, Field(ge=1, le=4)]
AreaValue = Annotated[float, Field(ge=0, le=1_000_000, allow_inf_nan=False)]
MoneyValue = Annotated[float, Field(ge=0, le=1e13, allow_inf_nan=False)]
Wishes = Annotated[str, Text(2000)]

SEED_EXAMPLE: dict[str, JsonValue] = {
    "city": "Москва",
    "district": "Центральный",
    "deal_format": "хочу купить",
    "type": "квартира",
    "subtype": "апартаменты",
    "condition": "новая",
    "construction_year": 2023,
    "construction_quarter": 4,
    "total_rooms": "2",
    "total_area_min": 50,
    "total_area_max": 70,
    "budget_min": 10000000,
    "budget_max": 15000000,
    "currency": "рубли",
    "purchase_purpose": "для проживания",
    "urgency": "срочно",
    "purchase_method": "в ипотеку",
    "mortgage_approved": True,
    "wishes": "хорошая инфраструктура",
}


DISTRICT_DOC = (
    "Matched ignoring case, spacing, ё/е and a marker word: 'Центральный', 'Центральный район', 'р-н Центральный' "
    "and 'ЦАО' are one district; a listing without a district has the one its address names"
)


class RequestIn(BaseModel):
    """What a buyer looks for; also the full state an edit is checked against."""

    model_config = ConfigDict(json_schema_extra={"example": SEED_EXAMPLE})

    city: Place
    district: OptionalPlace = Field(default=None, description=DISTRICT_DOC)
    deal_format: DealFormat = _code("deal_format", "sale or rent", ...)
    type: PropertyType = _code("type", "kind of property", ...)
    subtype: Subtype = _code("subtype", "optional subtype")
    condition: Condition = _code("condition", "optional condition")
    construction_year: Year | None = None
    construction_quarter: Quarter | None = None
    total_rooms: Rooms = Field(None, description="'студия'/'studio', a number of rooms such as '2', or '4+'")
    total_area_min: AreaValue | None = None
    total_area_max: AreaValue | None = None
    budget_min: MoneyValue | None = None
    budget_max: MoneyValue | None = None
    currency: Currency = Field("RUB", description="currency of the budget; one of RUB, USD, EUR or 'рубли', ...")
    purchase_purpose: Purpose = _code("purpose", "optional purpose")
    urgency: Urgency = _code("urgency", "optional urgency")
    purchase_method: PurchaseMethod = _code("purchase_method", "optional way to pay")
    mortgage_approved: bool | None = None
    wishes: Wishes | None = None

    @model_validator(mode="after")
    def _ranges_are_ordered(self) -> Self:
        for name in ("total_area", "budget"):
            low, high = getattr(self, f"{name}_min"), getattr(self, f"{name}_max")
            if low is not None and high is not None and low > high:
                raise ValueError(f"{name}_min must not exceed {name}_max")
        return self


# Fields an edit may leave out; fields it sends replace the stored ones (null clears optional ones).
class RequestChanges(BaseModel):
    city: Place | None = None
    district: OptionalPlace = Field(default=None, description=DISTRICT_DOC)
    deal_format: Annotated[str | None, vocabulary("deal_format").validator()] = None
    type: Annotated[str | None, vocabulary("type").validator()] = None
    subtype: Subtype = None
    condition: Condition = None
    construction_year: Year | None = None
    construction_quarter: Quarter | None = None
    total_rooms: Rooms = None
    total_area_min: AreaValue | None = None
    total_area_max: AreaValue | None = None
    budget_min: MoneyValue | None = None
    budget_max: MoneyValue | None = None
    currency: Annotated[str | None, vocabulary("currency").validator()] = None
    purchase_purpose: Purpose = None
    urgency: Urgency = None
    purchase_method: PurchaseMethod = None
    mortgage_approved: bool | None = None
    wishes: Wishes | None = None
    status: Literal["open", "closed"] | None = Field(None, description="closed requests get no new matches")


class RequestOut(BaseModel):
    id: int
    buyer_id: int
    status: Literal["open", "closed"]
    city: str
    district: str | None
    deal_format: str
    type: str
    subtype: str | None
    condition: str | None
    construction_year: int | None
    construction_quarter: int | None
    total_rooms: str | None
    total_area_min: float | None
    total_area_max: float | None
    budget_min: float | None
    budget_max: float | None
    currency: str
    purchase_purpose: str | None
    urgency: str | None
    purchase_method: str | None
    mortgage_approved: bool | None
    wishes: str | None
    match_count: int
    created_at: datetime
    updated_at: datetime


class MatchOut(BaseModel):
    id: int = Field(description="the property's id")
    property_id: int
    title: str
    price: float
    currency: str
    price_rub: float
    city: str
    district: str | None
    rooms: int | None = Field(description="0 means a studio")
    total_area: float | None
    cover_image_url: str | None
    matched_at: datetime


class Message(BaseModel):
    message: str
