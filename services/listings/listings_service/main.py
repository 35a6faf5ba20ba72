"""App factory of the listings service: ``uvicorn listings_service.main:create_app --factory``."""

from typing import cast

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse

from listings_service.api.routes import properties
from listings_service.container import ListingsContainer
from listings_service.domain.listings import InvalidListing, NotOwner, PropertyNotFound
from listings_service.settings import ListingsSettings, get_settings
from service_kit.app import create_service_app
from service_kit.logging import configure_logging


def _register_errors(app: FastAPI) -> None:
    async def not_found(_: Request, __: Exception) -> JSONResponse:
        return JSONResponse({"detail": "Property not found"}, status_code=status.HTTP_404_NOT_FOUND)

    async def not_owner(_: Request, __: Exception) -> JSONResponse:
        return JSONResponse(
            {"detail": "Only the owner of this property may change it"}, status_code=status.HTTP_403_FORBIDDEN
        )

    async def invalid_listing(_: Request, error: Exception) -> JSONResponse:
        # FastAPI's own validation shape, so clients read every 422 the same way.
        field = cast(InvalidListing, error).field
        detail = [{"type": "value_error", "loc": ["body", field], "msg": str(error)}]
        return JSONResponse({"detail": detail}, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)

    app.add_exception_handler(PropertyNotFound, not_found)
    app.add_exception_handler(NotOwner, not_owner)
    app.add_exception_handler(InvalidListing, invalid_listing)


def create_app(settings: ListingsSettings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging("listings", settings.log_level, settings.log_json)
    container = ListingsContainer.build(settings)
    app = create_service_app(
        service="listings",
        title="Marketplace listings service",
        version="1.0.0",
        lifespan=container.runtime.lifespan(),
        readiness=lambda _: container.runtime.readiness(),
        description="Listings: create and manage (seed endpoints 9-10), public card and search, media.",
    )
    app.state.container = container
    app.state.token_verifier = container.runtime.verifier
    _register_errors(app)
    app.include_router(properties.router)
    app.include_router(container.media.router())
    return app
