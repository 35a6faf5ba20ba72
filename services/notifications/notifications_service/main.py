"""App factory of the notifications service: ``uvicorn notifications_service.main:create_app --factory``."""

import asyncio
import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI, status

from notifications_service.api.routes import devices, inbox, ws
from notifications_service.container import NotificationsContainer
from notifications_service.domain.devices import DeviceNotFound
from notifications_service.domain.inbox import NotFound
from notifications_service.settings import NotificationsSettings, get_settings
from service_kit.app import ErrorAnswer
from service_kit.tasks import cancel_and_wait

ERRORS: dict[type[Exception], ErrorAnswer] = {
    NotFound: ErrorAnswer(status.HTTP_404_NOT_FOUND, "not_found"),
    DeviceNotFound: ErrorAnswer(status.HTTP_404_NOT_FOUND, "not_found"),
}


def create_app(settings: NotificationsSettings | None = None) -> FastAPI:
    container = NotificationsContainer.build(settings or get_settings())

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with container.runtime.lifespan()(app):
            background = [
                asyncio.create_task(container.fanout.run(), name="notifications-fanout"),
                asyncio.create_task(container.push_worker.run(), name="push-worker"),
            ]
            try:
                yield
            finally:
                # Sockets first (1012, clients reconnect elsewhere), then the subscriber and the worker.
                await container.sockets.shutdown()
                await cancel_and_wait(background)
                await container.close_providers()

    async def fanout_subscribed() -> None:
        if not container.fanout.listening:
            raise ConnectionError("notifications fan-out is not subscribed to Redis")

    return container.runtime.build_app(
        container,
        description="Notifications: the inbox, push devices and the user's real-time socket, by each user's settings.",
        routers=[inbox.router, devices.router, ws.router],
        errors=ERRORS,
        lifespan=lifespan,
        readiness={"fanout": fanout_subscribed},
    )
