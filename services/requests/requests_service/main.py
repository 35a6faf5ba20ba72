"""App factory of the requests service: ``uvicorn requests_service.main:create_app --factory``."""

from typing import cast

from fastapi import FastAPI, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from marketplace_rules.money import NoRate
from requests_service.api.routes import requests
from requests_service.container import RequestsContainer
from requests_service.domain.search_requests import InvalidChanges, RequestNotFound
from requests_service.settings import RequestsSettings, get_settings
from service_kit.app import create_service_app
from service_kit.logging import configure_logging


def _register_errors(app: FastAPI) -> None:
    async def not_found(_: Request, __: Exception) -> JSONResponse:
        return JSONResponse({"detail": "Request not found"}, status_code=status.HTTP_404_NOT_FOUND)

    async def no_rate(_: Request, error: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)

    async def invalid_changes(_: Request, error: Exception) -> JSONResponse:
        """Shaped like FastAPI's own body errors, so clients handle both alike."""
        errors = [{**item, "loc": ["body", *item["loc"]]} for item in cast(InvalidChanges, error).errors]
        return JSONResponse({"detail": jsonable_encoder(errors)}, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)

    app.add_exception_handler(RequestNotFound, not_found)
    app.add_exception_handler(NoRate, no_rate)
    app.add_exception_handler(InvalidChanges, invalid_changes)


def create_app(settings: RequestsSettings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging("requests", settings.log_level, settings.log_json)
    container = RequestsContainer.build(settings)
    app = create_service_app(
        service="requests",
        title="Marketplace requests service",
        version="1.0.0",
        lifespan=container.runtime.lifespan(),
        readiness=lambda _: container.runtime.readiness(),
        description="Buyer search requests and the listings that match them (seed endpoints 11-12).",
    )
    app.state.container = container
    app.state.token_verifier = container.runtime.verifier
    _register_errors(app)
    app.include_router(requests.router)
    return app
