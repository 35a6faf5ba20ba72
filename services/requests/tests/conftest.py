"""Requests tests run the real app on a database and namespace of their own.

Listing and user events reach the app the way they do in production: published
to the run's RabbitMQ exchange and consumed by the app's own consumer.
"""

import asyncio
import itertools
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aio_pika
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from requests_service.container import RequestsContainer
from requests_service.main import create_app
from requests_service.models import Listing, outbox
from requests_service.settings import RequestsSettings
from service_kit.events.envelope import EventEnvelope
from service_kit.events.relay import _message
from service_kit.events.topology import Topology
from service_kit.testing import RABBITMQ_URL, ServiceUnderTest, envelope, validate_event


@pytest.fixture(scope="session")
def service_under_test() -> ServiceUnderTest:
    return ServiceUnderTest(
        "requests", Path(__file__).resolve().parent.parent / "alembic.ini", create_app, RequestsSettings
    )


# The session-wide database is shared by all tests: each one uses ids of its own.
_ids = itertools.count(random.randrange(10**6, 10**8, 10**4))

SEED_REQUEST: dict[str, Any] = {
    "city": "Москва",
    "district": "Центральный",
    "deal_format": "хочу купить",
    "type": "квартира",
    "subtype": "апартаменты",
    "condition": "новая",
    "construction_year": 2023,
    "construction_quarter": 4,
    "total_rooms": "2",
    "total_area_min": 50,
    "total_area_max": 70,
    "budget_min": 10000000,
    "budget_max": 15000000,
    "currency": "рубли",
    "purchase_purpose": "для проживания",
    "urgency": "срочно",
    "purchase_method": "в ипотеку",
    "mortgage_approved": True,
    "wishes": "хорошая инфраструктура",
}


def new_id() -> int:
    return next(_ids)


def listing_data(property_id: int, **changes: Any) -> dict[str, Any]:
    """property.created data that fits SEED_REQUEST: 150 000 USD is 13.5M RUB at 90."""
    now = datetime.now(UTC).isoformat()
    data = {
        "property_id": property_id,
        "owner_id": 7,
        "status": "active",
        "deal_format": "sale",
        "type": "apartment",
        "subtype": "apartments",
        "condition": "new",
        "title": "Апартаменты у парка",
        "city": "Москва",
        "district": "Центральный",
        "location": "ул. Тверская, 1, Москва",
        "price": 150000,
        "currency": "USD",
        "price_rub": 13500000,
        "rooms": 2,
        "total_area": 60.5,
        "cover_image_url": f"/media/listings/{property_id}.jpg",
        "created_at": now,
        "updated_at": now,
    }
    return data | changes


async def wait_for(check: Callable[[], Awaitable[bool]], what: str, within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


class Events:
    """Publishes events into the app's namespace and looks at what it stored and announced."""

    def __init__(self, app: FastAPI, topology: Topology, exchange: aio_pika.abc.AbstractExchange) -> None:
        self.container: RequestsContainer = app.state.container
        self.topology = topology
        self.exchange = exchange

    async def publish(self, event: EventEnvelope) -> EventEnvelope:
        await self.exchange.publish(_message(event.model_dump(mode="json")), routing_key=event.type)
        return event

    async def listing(self, event_type: str, data: dict[str, Any]) -> EventEnvelope:
        return await self.publish(envelope(event_type, data, producer="listings"))

    async def stored_listing(self, property_id: int) -> Listing | None:
        async with self.container.runtime.database.sessions() as session:
            return await session.get(Listing, property_id)

    async def until_stored(self, property_id: int, status: str = "active") -> None:
        async def stored() -> bool:
            listing = await self.stored_listing(property_id)
            return listing is not None and listing.status == status

        await wait_for(stored, f"listing {property_id} to be stored as {status}")

    async def published(self, event_type: str) -> list[dict[str, Any]]:
        """Events of this type in the outbox, each checked against its contract schema."""
        async with self.container.runtime.database.sessions() as session:
            rows = (await session.scalars(select(outbox.c.envelope).where(outbox.c.event_type == event_type))).all()
        for row in rows:
            validate_event(row)
        return list(rows)


@pytest.fixture
async def events(app: FastAPI, namespace: str) -> AsyncIterator[Events]:
    topology = Topology(namespace)
    connection = await aio_pika.connect(RABBITMQ_URL)
    channel = await connection.channel()
    # Declared like the app's consumer does, so nothing published before it subscribes is lost.
    await topology.declare_service_queue(channel, "requests", app.state.container.runtime.consumer.event_types)
    yield Events(app, topology, await topology.declare_exchange(channel))
    await connection.close()
