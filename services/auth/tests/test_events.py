"""Auth's events: written with the change, relayed to RabbitMQ, shaped as contracts/events says."""

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import aio_pika
import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy import func, select

from auth_service.main import create_app
from auth_service.models import outbox
from auth_service.settings import AuthSettings
from service_kit.events.topology import Topology
from service_kit.testing import RABBITMQ_URL, delete_namespace, validate_event

from .conftest import Users

USER_EVENTS = ["user.registered", "user.activated", "user.updated", "user.deleted"]


@pytest.fixture
async def probe(namespace: str) -> AsyncIterator[aio_pika.abc.AbstractQueue]:
    """A queue bound to every user event of this test's namespace, like a consuming service's."""
    connection = await aio_pika.connect(RABBITMQ_URL)
    channel = await connection.channel()
    queue = await Topology(namespace).declare_service_queue(channel, "probe", USER_EVENTS)
    yield queue
    await connection.close()
    await delete_namespace(namespace, consumers=("probe",))


async def drain(queue: aio_pika.abc.AbstractQueue, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while len(events) < count and time.monotonic() < deadline:
        message = await queue.get(no_ack=False, fail=False)
        if message is None:
            await asyncio.sleep(0.05)
            continue
        assert message.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
        events.append(json.loads(message.body))
        await message.ack()
    return events


async def test_user_lifecycle_events_match_their_schemas(
    client: httpx.AsyncClient, users: Users, phone: str, probe: aio_pika.abc.AbstractQueue
) -> None:
    headers = await users.login(phone)
    changes = {"phone": phone, "city": "Казань", "notifications_news": "true", "notifications_all_messages": "false"}
    await client.put("/users/update", data=changes, headers=headers)
    await client.request("DELETE", "/users/delete", json={"phone": phone}, headers=headers)

    events = await drain(probe, 4)
    assert [event["type"] for event in events] == USER_EVENTS
    for event in events:
        validate_event(event)
    registered, activated, updated, deleted = events
    assert registered["data"]["phone"] == phone
    assert registered["data"]["role"] == "realtor"
    assert updated["data"]["city"] == "Казань"
    # The notification settings travel, so the notifications service keeps its own copy.
    flags = ("all_messages", "new_matches", "responses", "contacts", "news")
    assert [registered["data"][f"notifications_{flag}"] for flag in flags] == [True, True, True, True, False]
    assert [updated["data"][f"notifications_{flag}"] for flag in flags] == [False, True, True, True, True]
    assert deleted["data"]["user_id"] == registered["data"]["user_id"] == activated["data"]["user_id"]
    assert all(event["request_id"] for event in events)


async def test_no_event_is_lost_while_rabbitmq_is_down(
    settings: AuthSettings, probe: aio_pika.abc.AbstractQueue, namespace: str
) -> None:
    unreachable = settings.model_copy(update={"rabbitmq_url": "amqp://guest:guest@127.0.0.1:1/"})
    app = create_app(unreachable)
    phones = [f"+7928{number:07d}" for number in range(1_000, 1_005)]
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://auth") as client:
            for phone in phones:
                body = {"phone": phone, "first_name": "A", "last_name": "B", "role": "user"}
                assert (await client.post("/users/register", json=body)).status_code == 201
        async with app.state.container.runtime.database.sessions() as session:
            waiting = await session.scalar(
                select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))
            )
        assert waiting is not None and waiting >= len(phones)

    # The broker is back: a fresh process relays everything the first one could not.
    async with LifespanManager(create_app(settings)):
        events = await drain(probe, waiting)
    registered = {event["data"]["phone"] for event in events if event["type"] == "user.registered"}
    assert set(phones) <= registered
    assert len({event["event_id"] for event in events}) == len(events)


async def test_the_request_id_follows_the_request_into_its_events(
    client: httpx.AsyncClient, app: FastAPI, phone: str
) -> None:
    body = {"phone": phone, "first_name": "A", "last_name": "B", "role": "user"}
    response = await client.post("/users/register", json=body, headers={"X-Request-Id": "req-e2e-0001"})
    assert response.headers["x-request-id"] == "req-e2e-0001"
    async with app.state.container.runtime.database.sessions() as session:
        envelopes = (await session.scalars(select(outbox.c.envelope))).all()
    registered = [e for e in envelopes if e["type"] == "user.registered" and e["data"]["phone"] == phone]
    assert [e["request_id"] for e in registered] == ["req-e2e-0001"]
