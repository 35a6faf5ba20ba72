"""App factory of the requests service: ``uvicorn requests_service.main:create_app --factory``."""

from fastapi import FastAPI

from requests_service.container import RequestsContainer
from requests_service.settings import RequestsSettings, get_settings
from service_kit.app import create_service_app
from service_kit.logging import configure_logging


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
    )
    app.state.container = container
    app.state.token_verifier = container.runtime.verifier
    return app
