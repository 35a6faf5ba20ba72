"""Notifications tests run the real app on a database and namespace of their own.

Events arrive through RabbitMQ as in production; pushes go to a local fake of
FCM and RuStore (tests/fake_push.py). Socket tests run real uvicorn servers in
this process: several app instances sharing the database and the namespace are
several replicas.
"""

import asyncio
import itertools
import json
import random
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aio_pika
import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import func, select
from websockets.asyncio.client import ClientConnection, connect

from notifications_service.container import NotificationsContainer
from notifications_service.main import create_app
from notifications_service.models import Notification, processed_events
from notifications_service.push_worker import PushWorker
from notifications_service.settings import NotificationsSettings
from service_kit.events.envelope import EventEnvelope
from service_kit.events.topology import Topology, subscriptions
from service_kit.testing import RABBITMQ_URL, ServiceUnderTest, TokenFactory, envelope

from .fake_push import RUSTORE_PROJECT, RUSTORE_TOKEN, FakePush, start_fake_push


@pytest.fixture(scope="session")
def service_under_test() -> ServiceUnderTest:
    alembic_ini = Path(__file__).resolve().parent.parent / "alembic.ini"
    return ServiceUnderTest("notifications", alembic_ini, create_app, NotificationsSettings)


@pytest.fixture(scope="session")
def push_servers() -> Iterator[FakePush]:
    yield from start_fake_push()


@pytest.fixture
def push(push_servers: FakePush) -> FakePush:
    push_servers.reset()
    return push_servers


@pytest.fixture
def push_settings(push: FakePush, tmp_path: Path) -> dict[str, Any]:
    return {
        "push_providers": ["fcm", "rustore"],
        "fcm_credentials_path": push.credentials(tmp_path),
        "fcm_base_url": push.url,
        "rustore_project_id": RUSTORE_PROJECT,
        "rustore_service_token": RUSTORE_TOKEN,
        "rustore_base_url": push.url,
        "push_poll_seconds": 0.2,
        "push_timeout_seconds": 5.0,
    }


@pytest.fixture
def overrides() -> dict[str, Any]:
    """Settings a test changes (parametrize it); the fake push providers stay configured."""
    return {}


@pytest.fixture
def extra_settings(push_settings: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    return push_settings | overrides


_ids = itertools.count(random.randrange(10_000, 1_000_000) * 1000)


def new_id() -> int:
    """User, chat, listing and request ids unique within the test session's shared database."""
    return next(_ids)


def now() -> str:
    return datetime.now(UTC).isoformat()


def profile(user_id: int, first_name: str = "Иван", last_name: str = "Иванов", **settings: bool) -> dict[str, Any]:
    return {
        "user_id": user_id,
        "phone": f"+7916{user_id % 10**7:07d}",
        "first_name": first_name,
        "last_name": last_name,
        "role": "user",
        "is_active": True,
        **{f"notifications_{name}": value for name, value in settings.items()},
    }


class Events:
    """Publishes events to the test's exchange, as producers do, and waits until the service handled them."""

    def __init__(self, app: FastAPI, namespace: str) -> None:
        self.container: NotificationsContainer = app.state.container
        self.namespace = namespace
        self.sent: list[EventEnvelope] = []

    async def publish(self, event: EventEnvelope, within: float = 10.0) -> EventEnvelope:
        """Declares the service's queue first (as the set-up step does), publishes, waits until processed."""
        connection = await aio_pika.connect(RABBITMQ_URL)
        async with connection:
            channel = await connection.channel()
            topology = Topology(self.namespace)
            await topology.declare_service_queue(channel, "notifications", subscriptions()["notifications"])
            exchange = await topology.declare_exchange(channel)
            body = aio_pika.Message(event.model_dump_json().encode(), delivery_mode=aio_pika.DeliveryMode.PERSISTENT)
            await exchange.publish(body, routing_key=event.type)
        self.sent.append(event)
        await self.until_processed(event, within)
        return event

    async def until_processed(self, event: EventEnvelope, within: float = 10.0) -> None:
        deadline = time.monotonic() + within
        while not await self.processed(event):
            assert time.monotonic() < deadline, f"{event.type} was not handled"
            await asyncio.sleep(0.02)

    async def processed(self, event: EventEnvelope) -> bool:
        async with self.container.runtime.database.sessions() as session:
            found = await session.scalar(select(func.count()).where(processed_events.c.event_id == event.event_id))
        return bool(found)

    async def send(self, event_type: str, data: dict[str, Any], producer: str) -> EventEnvelope:
        return await self.publish(envelope(event_type, data, producer))

    async def user(self, user_id: int | None = None, first_name: str = "Иван", **settings: bool) -> int:
        user_id = user_id or new_id()
        await self.send("user.registered", profile(user_id, first_name, **settings), "auth")
        return user_id

    async def settings(self, user_id: int, first_name: str = "Иван", **settings: bool) -> None:
        await self.send("user.updated", profile(user_id, first_name, **settings), "auth")

    async def match(
        self, buyer_id: int, seller_id: int, request_id: int | None = None, property_id: int | None = None
    ) -> EventEnvelope:
        data = {
            "request_id": request_id or new_id(),
            "buyer_id": buyer_id,
            "property_id": property_id or new_id(),
            "seller_id": seller_id,
            "matched_at": now(),
            "listing": {"title": "Двушка у парка", "city": "Казань", "price": 9_000_000, "currency": "RUB", "rooms": 2},
            "request": {"city": "Казань", "total_rooms": "2", "budget_max": 10_000_000, "currency": "RUB"},
        }
        return await self.send("request.matched", data, "requests")

    async def chat(self, buyer_id: int, seller_id: int, opened_by: int | None = None) -> int:
        chat_id = new_id()
        data = {
            "chat_id": chat_id,
            "buyer_id": buyer_id,
            "seller_id": seller_id,
            "property_id": new_id(),
            "created_at": now(),
            "opened_by": opened_by or buyer_id,
        }
        await self.send("chat.created", data, "chat")
        return chat_id

    async def message(
        self, chat_id: int, seq: int, sender_id: int, recipient_id: int, text: str = "Здравствуйте!"
    ) -> int:
        message_id = new_id()
        data = {
            "message_id": message_id,
            "chat_id": chat_id,
            "seq": seq,
            "sender_id": sender_id,
            "recipient_id": recipient_id,
            "property_id": 1,
            "text": text,
            "created_at": now(),
        }
        await self.send("message.sent", data, "chat")
        return message_id

    async def read(self, chat_id: int, user_id: int, read_seq: int) -> None:
        data = {"chat_id": chat_id, "user_id": user_id, "read_seq": read_seq, "read_at": now()}
        await self.send("chat.read", data, "chat")

    async def reveal(self, owner_id: int, viewer_id: int, property_id: int | None = None) -> EventEnvelope:
        data = {
            "property_id": property_id or new_id(),
            "owner_id": owner_id,
            "viewer_id": viewer_id,
            "title": "Дом у реки",
            "revealed_at": now(),
        }
        return await self.send("contact.revealed", data, "listings")

    async def delete_user(self, user_id: int) -> None:
        await self.send("user.deleted", {"user_id": user_id}, "auth")


@pytest.fixture
def events(app: FastAPI, namespace: str) -> Events:
    return Events(app, namespace)


@pytest.fixture
async def held_pushes(app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> PushWorker:
    """The app's push worker sends nothing by itself any more: the test calls ``send_due()`` when it wants."""
    container: NotificationsContainer = app.state.container
    monkeypatch.setattr(container.push_worker, "_poll_seconds", 3600)
    monkeypatch.setattr(container.notifier, "_wake_push_worker", lambda: None)
    await asyncio.sleep(0.3)  # a pass already under way ends; the next waits an hour
    return container.push_worker


async def inbox_of(app: FastAPI, user_id: int) -> list[Notification]:
    """The user's notifications, oldest first, straight from the database."""
    async with app.state.container.runtime.database.sessions() as session:
        rows = await session.scalars(
            select(Notification).where(Notification.user_id == user_id).order_by(Notification.seq)
        )
        return list(rows)


async def register_device(
    client: httpx.AsyncClient, tokens: TokenFactory, user_id: int, token: str, platform: str = "fcm"
) -> int:
    response = await client.post(
        "/notifications/devices", json={"platform": platform, "token": token}, headers=tokens.headers(user_id, "user")
    )
    assert response.status_code in (200, 201), response.text
    device_id: int = response.json()["id"]
    return device_id


async def wait_for(condition: Callable[[], Awaitable[bool]], within: float = 5.0, what: str = "condition") -> None:
    deadline = time.monotonic() + within
    while not await condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


async def pushes_settled(push: FakePush, token: str, count: int, kind: str | None = None, within: float = 5.0) -> None:
    """Waits until ``count`` pushes (of ``kind``) reached ``token``, then a little longer to catch an extra one."""

    async def arrived() -> bool:
        return len(push.to(token, kind)) >= count

    await wait_for(arrived, within, f"{count} push(es) to {token}")
    await asyncio.sleep(0.5)
    assert len(push.to(token, kind)) == count, push.to(token, kind)


# -- replicas and sockets -------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Replica:
    app: FastAPI
    server: uvicorn.Server
    task: "asyncio.Task[None]"
    port: int

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def container(self) -> NotificationsContainer:
        container: NotificationsContainer = self.app.state.container
        return container

    def ws_url(self, token: str | None, after: int | None = None) -> str:
        query = [f"token={token}"] if token is not None else []
        if after is not None:
            query.append(f"after={after}")
        return f"ws://127.0.0.1:{self.port}/notifications/ws" + ("?" + "&".join(query) if query else "")

    async def stop(self) -> None:
        self.server.should_exit = True
        await asyncio.wait_for(self.task, 20)


Replicas = Callable[..., Awaitable[Replica]]


@pytest.fixture
async def replicas(settings: NotificationsSettings, tokens: TokenFactory) -> AsyncIterator[Replicas]:
    """Starts uvicorn replicas of the service (same database and namespace) on free ports."""
    started: list[Replica] = []

    async def start(**overrides: Any) -> Replica:
        app = create_app(settings.model_copy(update=overrides))
        app.state.token_verifier.keys.load(tokens.jwks)
        port = free_port()
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            ws="websockets-sansio",
            ws_per_message_deflate=False,
            ws_max_size=65536,
            log_level="warning",
        )
        server = uvicorn.Server(config)
        task = asyncio.create_task(server.serve())
        replica = Replica(app, server, task, port)
        started.append(replica)
        deadline = time.monotonic() + 15
        async with httpx.AsyncClient() as http:
            while True:
                try:
                    if (await http.get(f"{replica.http}/ready")).status_code == 200:
                        return replica
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, "replica not ready"
                await asyncio.sleep(0.05)

    yield start
    for replica in started:
        if not replica.task.done():
            await replica.stop()


async def open_socket(url: str) -> tuple[ClientConnection, dict[str, Any]]:
    ws = await connect(url, compression=None, open_timeout=5)
    hello = await receive(ws)
    assert hello["type"] == "hello", hello
    return ws, hello


async def receive(ws: ClientConnection, timeout: float = 5.0) -> dict[str, Any]:
    frame: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), timeout))
    return frame


async def receive_type(ws: ClientConnection, kind: str, timeout: float = 5.0) -> dict[str, Any]:
    """The next frame of ``kind``, skipping badge frames (they follow every change)."""
    deadline = time.monotonic() + timeout
    while True:
        frame = await receive(ws, max(0.01, deadline - time.monotonic()))
        if frame["type"] == kind:
            return frame
        assert frame["type"] == "badge", frame


async def no_notification(ws: ClientConnection, within: float = 0.5) -> None:
    """Fails if a notification frame arrives within ``within`` seconds (badge frames may)."""
    deadline = time.monotonic() + within
    while (left := deadline - time.monotonic()) > 0:
        try:
            frame = await receive(ws, left)
        except TimeoutError:
            return
        assert frame["type"] == "badge", f"unexpected frame {frame!r}"
