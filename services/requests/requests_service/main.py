"""App factory of the requests service: ``uvicorn requests_service.main:create_app --factory``."""

from typing import cast

from fastapi import FastAPI, status

from marketplace_rules.money import NoRate
from requests_service.api.routes import requests
from requests_service.container import RequestsContainer
from requests_service.domain.search_requests import InvalidChanges, RequestNotFound
from requests_service.settings import RequestsSettings, get_settings
from service_kit.app import ErrorAnswer
from service_kit.errors import VALIDATION_ERROR, field_errors


def _body_errors(error: Exception) -> list[dict[str, object]]:
    """Shaped like FastAPI's own body errors, so clients handle both alike."""
    return [{**item, "loc": ["body", *item["loc"]]} for item in cast(InvalidChanges, error).errors]


ERRORS: dict[type[Exception], ErrorAnswer] = {
    RequestNotFound: ErrorAnswer(status.HTTP_404_NOT_FOUND, "not_found", "Request not found"),
    # Budgets are converted with the rate of the request's own currency.
    NoRate: ErrorAnswer(
        status.HTTP_422_UNPROCESSABLE_CONTENT, VALIDATION_ERROR, field_errors(lambda _: ("body", "currency"))
    ),
    InvalidChanges: ErrorAnswer(status.HTTP_422_UNPROCESSABLE_CONTENT, VALIDATION_ERROR, _body_errors),
}


def create_app(settings: RequestsSettings | None = None) -> FastAPI:
    container = RequestsContainer.build(settings or get_settings())
    return container.runtime.build_app(
        container,
        description="Buyer search requests and the listings that match them (seed endpoints 11-12).",
        routers=[requests.router],
        errors=ERRORS,
    )
