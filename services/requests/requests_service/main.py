"""App factory of the requests service: ``uvicorn requests_service.main:create_app --factory``."""

from fastapi import FastAPI, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from requests_service.api.routes import requests
from requests_service.container import RequestsContainer
from requests_service.domain.search_requests import RequestNotFound
from requests_service.domain.values import NoRate
from requests_service.settings import RequestsSettings, get_settings
from service_kit.app import create_service_app
from service_kit.logging import configure_logging


def _register_errors(app: FastAPI) -> None:
    async def not_found(_: Request, __: Exception) -> JSONResponse:
        return JSONResponse({"detail": "Request not found"}, status_code=status.HTTP_404_NOT_FOUND)

    async def no_rate(_: Request, error: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)

    async def invalid_edit(_: Request, error: Exception) -> JSONResponse:
        """An edit that leaves the request invalid as a whole (e.g. min above the stored max)."""
        errors = [
            {**item, "loc": ["body", *item["loc"]]}
            for item in jsonable_encoder(
                error.errors(include_url=False, include_context=False)  # type: ignore[attr-defined]
            )
        ]
        return JSONResponse({"detail": errors}, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)

    app.add_exception_handler(RequestNotFound, not_found)
    app.add_exception_handler(NoRate, no_rate)
    app.add_exception_handler(ValidationError, invalid_edit)


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
