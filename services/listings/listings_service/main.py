"""App factory of the listings service: ``uvicorn listings_service.main:create_app --factory``."""

from typing import cast

from fastapi import FastAPI, status

from listings_service.api.routes import properties
from listings_service.container import ListingsContainer
from listings_service.domain.listings import (
    ContactUnavailable,
    InvalidListing,
    NotOwner,
    PropertyNotFound,
    RevealsThrottled,
)
from listings_service.settings import ListingsSettings, get_settings
from service_kit.app import ErrorAnswer
from service_kit.errors import VALIDATION_ERROR, field_errors

ERRORS: dict[type[Exception], ErrorAnswer] = {
    PropertyNotFound: ErrorAnswer(status.HTTP_404_NOT_FOUND, "not_found", "Property not found"),
    NotOwner: ErrorAnswer(status.HTTP_403_FORBIDDEN, "not_owner", "Only the owner of this property may change it"),
    # FastAPI's own validation shape, so clients read every 422 the same way.
    InvalidListing: ErrorAnswer(
        status.HTTP_422_UNPROCESSABLE_CONTENT,
        VALIDATION_ERROR,
        field_errors(lambda error: ("body", cast(InvalidListing, error).field)),
    ),
    ContactUnavailable: ErrorAnswer(
        status.HTTP_404_NOT_FOUND, "contact_unavailable", "The owner's contact is not available"
    ),
    RevealsThrottled: ErrorAnswer(
        status.HTTP_429_TOO_MANY_REQUESTS,
        "rate_limited",
        "Too many phone numbers revealed; try again later",
        headers=lambda error: {"Retry-After": str(cast(RevealsThrottled, error).retry_after)},
    ),
}


def create_app(settings: ListingsSettings | None = None) -> FastAPI:
    container = ListingsContainer.build(settings or get_settings())
    return container.runtime.build_app(
        container,
        description="Listings: create and manage (seed endpoints 9-10), public card and search, media.",
        routers=[properties.router, container.media.router()],
        errors=ERRORS,
    )
