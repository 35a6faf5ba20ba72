"""App factory of the chat service: ``uvicorn chat_service.main:create_app --factory``."""

import asyncio
import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse

from chat_service.api.routes import chats, ws
from chat_service.container import ChatContainer
from chat_service.domain.errors import (
    ChatClosed,
    ChatNotFound,
    InvalidParticipants,
    NotAParticipant,
    PropertyNotActive,
    PropertyNotFound,
)
from chat_service.settings import ChatSettings, get_settings
from service_kit.app import ReadinessCheck, create_service_app
from service_kit.logging import configure_logging
from service_kit.tasks import cancel_and_wait

ERROR_STATUS: dict[type[Exception], int] = {
    NotAParticipant: status.HTTP_403_FORBIDDEN,
    ChatNotFound: status.HTTP_404_NOT_FOUND,
    PropertyNotFound: status.HTTP_404_NOT_FOUND,
    PropertyNotActive: status.HTTP_409_CONFLICT,
    ChatClosed: status.HTTP_409_CONFLICT,
    InvalidParticipants: status.HTTP_422_UNPROCESSABLE_CONTENT,
}


def _register_errors(app: FastAPI) -> None:
    async def refused(_: Request, error: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=ERROR_STATUS[type(error)])

    for error_type in ERROR_STATUS:
        app.add_exception_handler(error_type, refused)


def _readiness(container: ChatContainer) -> dict[str, ReadinessCheck]:
    async def fanout() -> None:
        if not container.fanout.listening:
            raise ConnectionError("chat fan-out is not subscribed to Redis")

    return {**container.runtime.readiness(), "fanout": fanout}


def create_app(settings: ChatSettings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging("chat", settings.log_level, settings.log_json)
    container = ChatContainer.build(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with container.runtime.lifespan()(app):
            fanout = asyncio.create_task(container.fanout.run(), name="chat-fanout")
            try:
                yield
            finally:
                # Sockets first (1012, clients reconnect elsewhere), then the subscriber.
                await container.sockets.shutdown()
                await cancel_and_wait([fanout])

    app = create_service_app(
        service="chat",
        title="Marketplace chat service",
        version="1.0.0",
        lifespan=lifespan,
        readiness=lambda _: _readiness(container),
        description="Chats between buyers and sellers, their history and the real-time socket (seed 13-16).",
    )
    app.state.container = container
    app.state.token_verifier = container.runtime.verifier
    _register_errors(app)
    app.include_router(chats.router)
    app.include_router(ws.router)
    return app
