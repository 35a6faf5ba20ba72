"""Events of the requests service: buyer requests and the listings that match them."""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from event_contracts.fields import Id, Moment, event_text
from marketplace_rules.vocabulary import vocabulary
from service_kit.events.data import EventData

Place = Annotated[str, event_text(100, min_length=1)]
Area = Annotated[float, Field(ge=0, le=1_000_000, allow_inf_nan=False)]
Money = Annotated[float, Field(ge=0, le=1e13, allow_inf_nan=False)]


class RequestCreated(EventData):
    """A buyer posted a search request. Enumerated fields carry canonical codes (contracts/vocabulary.json)."""

    event_type = "request.created"
    producer = "requests"

    request_id: Id
    buyer_id: Id
    deal_format: Annotated[str, vocabulary("deal_format").code()]
    type: Annotated[str, vocabulary("type").code()]
    subtype: Annotated[str, vocabulary("subtype").code()] | None = None
    city: Place
    district: Place | None = None
    total_rooms: Annotated[str, Field(pattern=r"^(studio|[1-9][0-9]?\+?)$")] | None = Field(
        None, description='"studio", a number of rooms, or "N+" for N or more'
    )
    total_area_min: Area | None = None
    total_area_max: Area | None = None
    budget_min: Money | None = None
    budget_max: Money | None = None
    currency: Annotated[str, vocabulary("currency").code()]
    created_at: Moment


class MatchedListing(BaseModel):
    """What a buyer is told of the listing that fits their request."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    title: Annotated[str, event_text(300)]
    city: Annotated[str, event_text(200, min_length=1)]
    price: Annotated[float, Field(gt=0, lt=1e16, allow_inf_nan=False)]
    currency: Annotated[str, vocabulary("currency").code()]
    rooms: Annotated[int, Field(ge=0, le=100_000)] | None = Field(None, description="0 means a studio")


class MatchedRequest(BaseModel):
    """What a seller is told of the buyer request their listing fits."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    city: Place
    district: Place | None = None
    total_rooms: Annotated[str, Field(pattern=r"^(studio|[1-9][0-9]?\+?)$")] | None = None
    budget_min: Money | None = None
    budget_max: Money | None = None
    currency: Annotated[str, vocabulary("currency").code()]


class RequestMatched(EventData):
    """A listing newly fits a buyer's open request; published once per (request, property) while the match holds."""

    event_type = "request.matched"
    producer = "requests"

    request_id: Id
    buyer_id: Id = Field(description="who posted the request (to notify)")
    property_id: Id
    seller_id: Id = Field(description="owner of the listing")
    matched_at: Moment
    listing: MatchedListing | None = Field(None, description="The listing, for the buyer's notification")
    request: MatchedRequest | None = Field(None, description="The request, for the seller's notification")
