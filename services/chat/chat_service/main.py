"""App factory of the chat service: ``uvicorn chat_service.main:create_app --factory``."""

from fastapi import FastAPI

from chat_service.container import ChatContainer
from chat_service.settings import ChatSettings, get_settings
from service_kit.app import create_service_app
from service_kit.logging import configure_logging


def create_app(settings: ChatSettings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging("chat", settings.log_level, settings.log_json)
    container = ChatContainer.build(settings)
    app = create_service_app(
        service="chat",
        title="Marketplace chat service",
        version="1.0.0",
        lifespan=container.runtime.lifespan(),
        readiness=lambda _: container.runtime.readiness(),
    )
    app.state.container = container
    app.state.token_verifier = container.runtime.verifier
    return app
