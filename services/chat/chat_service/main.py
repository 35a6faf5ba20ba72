"""App factory of the chat service: ``uvicorn chat_service.main:create_app --factory``."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import cast

from fastapi import FastAPI, status

from chat_service.api.routes import chats, ws
from chat_service.container import ChatContainer
from chat_service.domain.errors import (
    ChatClosed,
    ChatNotFound,
    InvalidParticipants,
    NotAParticipant,
    PropertyNotActive,
    PropertyNotFound,
    SellerNeedsMatch,
)
from chat_service.settings import ChatSettings, get_settings
from service_kit.app import ErrorAnswer
from service_kit.errors import VALIDATION_ERROR, field_errors
from service_kit.tasks import cancel_and_wait


def _participants_loc(error: Exception) -> tuple[str, ...]:
    field = cast(InvalidParticipants, error).field
    return ("body", field) if field else ("body",)


ERRORS: dict[type[Exception], ErrorAnswer] = {
    NotAParticipant: ErrorAnswer(status.HTTP_403_FORBIDDEN, "not_participant"),
    SellerNeedsMatch: ErrorAnswer(status.HTTP_403_FORBIDDEN, "seller_needs_match"),
    ChatNotFound: ErrorAnswer(status.HTTP_404_NOT_FOUND, "not_found"),
    PropertyNotFound: ErrorAnswer(status.HTTP_404_NOT_FOUND, "not_found"),
    PropertyNotActive: ErrorAnswer(status.HTTP_409_CONFLICT, "property_not_active"),
    ChatClosed: ErrorAnswer(status.HTTP_409_CONFLICT, "chat_closed"),
    InvalidParticipants: ErrorAnswer(
        status.HTTP_422_UNPROCESSABLE_CONTENT,
        VALIDATION_ERROR,
        field_errors(_participants_loc),
    ),
}


def create_app(settings: ChatSettings | None = None) -> FastAPI:
    container = ChatContainer.build(settings or get_settings())

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with container.runtime.lifespan()(app):
            fanout = asyncio.create_task(container.fanout.run(), name="chat-fanout")
            presence = asyncio.create_task(container.presence.run(), name="chat-presence")
            try:
                yield
            finally:
                # Sockets first (1012, clients reconnect elsewhere; each leaves its presence), then the subscriber.
                await container.sockets.shutdown()
                await cancel_and_wait([fanout, presence])

    async def fanout_subscribed() -> None:
        if not container.fanout.listening:
            raise ConnectionError("chat fan-out is not subscribed to Redis")

    return container.runtime.build_app(
        container,
        description="Chats between buyers and sellers, their history and the real-time socket (seed 13-16).",
        routers=[chats.router, ws.router],
        errors=ERRORS,
        lifespan=lifespan,
        readiness={"fanout": fanout_subscribed},
    )
