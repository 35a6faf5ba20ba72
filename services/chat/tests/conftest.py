"""Chat tests run the real app on a database and namespace of their own.

Socket tests run real uvicorn servers in this process: several app instances
sharing the database and the namespace are several replicas.
"""

import asyncio
import itertools
import json
import random
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aio_pika
import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import select
from websockets.asyncio.client import ClientConnection, connect

from chat_service.container import ChatContainer
from chat_service.main import create_app
from chat_service.models import KnownMatch, KnownProperty, KnownUser
from chat_service.settings import ChatSettings
from service_kit.events.envelope import EventEnvelope
from service_kit.events.topology import Topology
from service_kit.testing import RABBITMQ_URL, ServiceUnderTest, TokenFactory, envelope


@pytest.fixture(scope="session")
def service_under_test() -> ServiceUnderTest:
    return ServiceUnderTest("chat", Path(__file__).resolve().parent.parent / "alembic.ini", create_app, ChatSettings)


_ids = itertools.count(random.randrange(10_000, 1_000_000) * 1000)


def new_id() -> int:
    """User and property ids unique within the test session's shared database."""
    return next(_ids)


def property_data(property_id: int, owner_id: int, status: str = "active", title: str = "Квартира") -> dict[str, Any]:
    now = datetime.now(UTC).isoformat()
    return {
        "property_id": property_id,
        "owner_id": owner_id,
        "status": status,
        "deal_format": "sale",
        "type": "apartment",
        "title": title,
        "city": "Москва",
        "price": 100.0,
        "currency": "RUB",
        "price_rub": 100.0,
        "cover_image_url": f"/media/listings/{property_id}.jpg",
        "created_at": now,
        "updated_at": now,
    }


def user_data(user_id: int, first_name: str, last_name: str) -> dict[str, Any]:
    return {
        "user_id": user_id,
        "phone": f"+7916{user_id % 10**7:07d}",
        "first_name": first_name,
        "last_name": last_name,
        "role": "user",
        "is_active": True,
    }


async def publish_until(
    namespace: str, event: EventEnvelope, done: Callable[[], Awaitable[bool]], within: float = 15.0
) -> None:
    """Publishes to the namespace's exchange (again, same event id, until the consumer has bound
    its queue) and waits until ``done`` says the consumer handled it."""
    connection = await aio_pika.connect(RABBITMQ_URL)
    try:
        channel = await connection.channel()
        exchange = await Topology(namespace).declare_exchange(channel)
        body = aio_pika.Message(body=event.model_dump_json().encode(), content_type="application/json")
        deadline = time.monotonic() + within
        while True:
            await exchange.publish(body, routing_key=event.type)
            for _ in range(40):
                if await done():
                    return
                await asyncio.sleep(0.025)
            assert time.monotonic() < deadline, f"{event.type} was not handled"
    finally:
        await connection.close()


class World:
    """Puts users and listings into the chat service's read models through real events."""

    def __init__(self, container: ChatContainer, namespace: str) -> None:
        self.container = container
        self.namespace = namespace

    async def _exists(self, model: Any, key: int, **expected: Any) -> bool:
        async with self.container.runtime.database.sessions() as session:
            row = (await session.scalars(select(model).where(model.id == key))).first()
        return row is not None and all(getattr(row, name) == value for name, value in expected.items())

    async def listing(self, owner_id: int, status: str = "active", title: str = "Квартира") -> int:
        property_id = new_id()
        event = envelope("property.created", property_data(property_id, owner_id, status, title), "listings")
        await publish_until(self.namespace, event, lambda: self._exists(KnownProperty, property_id, status=status))
        return property_id

    async def user(self, first_name: str, last_name: str) -> int:
        user_id = new_id()
        event = envelope("user.registered", user_data(user_id, first_name, last_name), "auth")
        await publish_until(self.namespace, event, lambda: self._exists(KnownUser, user_id))
        return user_id

    async def match(self, buyer_id: int, seller_id: int, property_id: int) -> int:
        """request.matched of a new request of ``buyer_id`` with the listing; returns the request id."""
        request_id = new_id()
        data = {
            "request_id": request_id,
            "buyer_id": buyer_id,
            "property_id": property_id,
            "seller_id": seller_id,
            "matched_at": datetime.now(UTC).isoformat(),
        }

        async def stored() -> bool:
            async with self.container.runtime.database.sessions() as session:
                return await session.get(KnownMatch, (request_id, property_id)) is not None

        await publish_until(self.namespace, envelope("request.matched", data, "requests"), stored)
        return request_id

    async def delete_user(self, user_id: int) -> None:
        event = envelope("user.deleted", {"user_id": user_id}, "auth")
        await publish_until(self.namespace, event, lambda: self._exists(KnownUser, user_id, deleted=True))


@pytest.fixture
def world(app: FastAPI, namespace: str) -> World:
    return World(app.state.container, namespace)


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
    def container(self) -> ChatContainer:
        container: ChatContainer = self.app.state.container
        return container

    def ws_url(self, chat_id: int | str, token: str | None, after: int | None = None) -> str:
        query = [f"token={token}"] if token is not None else []
        if after is not None:
            query.append(f"after={after}")
        return f"ws://127.0.0.1:{self.port}/chat/ws/{chat_id}" + ("?" + "&".join(query) if query else "")

    async def stop(self) -> None:
        self.server.should_exit = True
        await asyncio.wait_for(self.task, 20)


Replicas = Callable[..., Awaitable[Replica]]


@pytest.fixture
async def replicas(settings: ChatSettings, tokens: TokenFactory) -> AsyncIterator[Replicas]:
    """Starts uvicorn replicas of the chat service (same database and namespace) on free ports."""
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
    """Connects and returns the socket with its hello frame."""
    ws = await connect(url, compression=None, open_timeout=5)
    hello = await receive(ws)
    assert hello["type"] == "hello", hello
    return ws, hello


async def receive(ws: ClientConnection, timeout: float = 5.0) -> dict[str, Any]:
    frame: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), timeout))
    return frame


async def receive_type(ws: ClientConnection, kind: str, timeout: float = 5.0) -> dict[str, Any]:
    """The next frame of ``kind``; anything else in between fails the test."""
    frame = await receive(ws, timeout)
    assert frame["type"] == kind, frame
    return frame


async def nothing_more(ws: ClientConnection, within: float = 0.3) -> None:
    """Fails if a frame arrives within ``within`` seconds.

    A heuristic negative check: on one machine a frame already on its way (Redis fan-out, a
    PostgreSQL catch-up) arrives within milliseconds, so 0.3 s catches duplicates and strays
    without slowing the suite; it cannot prove that nothing would ever come later.
    """
    try:
        frame = await asyncio.wait_for(ws.recv(), within)
    except TimeoutError:
        return
    raise AssertionError(f"unexpected frame {frame!r}")
