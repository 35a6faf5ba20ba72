"""Events of the listings service: listings published, changed and removed, owners' phones revealed."""

from typing import Annotated, Literal

from pydantic import Field

from event_contracts.fields import Id, Moment, Url, event_text
from marketplace_rules.vocabulary import vocabulary
from service_kit.events.data import EventData

# Amounts fit NUMERIC(18, 2).
Amount = Annotated[float, Field(gt=0, lt=1e16, allow_inf_nan=False)]
Place = Annotated[str, event_text(200, min_length=1)]


class PropertyState(EventData):
    """A listing as matching and chat need it."""

    producer = "listings"

    property_id: Id
    owner_id: Id
    status: Literal["active", "archived", "sold"]
    deal_format: Annotated[str, vocabulary("deal_format").code()]
    type: Annotated[str, vocabulary("type").code()]
    subtype: Annotated[str, vocabulary("subtype").code()] | None = None
    condition: Annotated[str, vocabulary("condition").code()] | None = None
    title: Annotated[str, event_text(300)]
    city: Place = Field(description="Without a 'г.'/'город' prefix; compared ignoring case, spacing and ё/е")
    district: Place | None = None
    location: Annotated[str, event_text(500)] | None = None
    price: Amount
    currency: Annotated[str, vocabulary("currency").code()]
    price_rub: Amount = Field(description="price converted with the listings service's rate table")
    rooms: Annotated[int, Field(ge=0, le=100_000)] | None = Field(None, description="0 means a studio")
    total_area: Annotated[float, Field(gt=0, le=1e8, allow_inf_nan=False)] | None = None
    cover_image_url: Url | None = Field(None, description="Gateway path of the first image")
    created_at: Moment
    updated_at: Moment


class PropertyCreated(PropertyState):
    """A listing was published."""

    event_type = "property.created"


class PropertyUpdated(PropertyState):
    """Any change of a listing, its status included (archived and sold listings leave matching and chat creation)."""

    event_type = "property.updated"


class PropertyDeleted(EventData):
    """A listing was removed for good."""

    event_type = "property.deleted"
    producer = "listings"

    property_id: Id
    owner_id: Id


class ContactRevealed(EventData):
    """A signed-in user asked for a listing owner's phone on its card (each time they ask; never for the owner's own
    listing)."""

    event_type = "contact.revealed"
    producer = "listings"

    property_id: Id
    owner_id: Id = Field(description="Whose phone was shown")
    viewer_id: Id = Field(description="Who asked for it")
    title: Annotated[str, event_text(300)] = Field(description="The listing's title")
    revealed_at: Moment
