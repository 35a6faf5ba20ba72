"""App factory of the listings service: ``uvicorn listings_service.main:create_app --factory``."""

from fastapi import FastAPI

from listings_service.container import ListingsContainer
from listings_service.settings import ListingsSettings, get_settings
from service_kit.app import create_service_app
from service_kit.logging import configure_logging


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
    )
    app.state.container = container
    app.state.token_verifier = container.runtime.verifier
    return app
