"""Shared fixtures: a fresh database per session and a RabbitMQ namespace per test, on the real servers."""

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aio_pika
import asyncpg
import pytest
from aio_pika.abc import AbstractIncomingMessage, AbstractQueue, AbstractRobustConnection
from sqlalchemy import Column, Integer, MetaData, String, Table, delete

from service_kit.db import Database
from service_kit.events.tables import outbox_table, processed_events_table
from service_kit.events.topology import Topology
from service_kit.testing import POSTGRES_URL, RABBITMQ_URL, asyncpg_url, delete_namespace, run_id

METADATA = MetaData()
OUTBOX = outbox_table(METADATA)
PROCESSED = processed_events_table(METADATA)
# What consumer handlers change: one counter per key, so a double application shows as hits == 2.
COUNTERS = Table(
    "counters",
    METADATA,
    Column("key", String(100), primary_key=True),
    Column("hits", Integer, nullable=False),
)

# Consumer queues the tests declare; every namespace fixture removes them all.
CONSUMERS = ("probe", "svc")


async def wait_for(condition: Callable[[], Awaitable[bool]], within: float = 10.0, what: str = "condition") -> None:
    """Polls ``condition`` until it holds; fails the test past the deadline."""
    deadline = time.monotonic() + within
    while not await condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {within} s waiting for {what}")
        await asyncio.sleep(0.02)


async def drain(queue: AbstractQueue, settle: float = 0.3) -> list[AbstractIncomingMessage]:
    """Every message in ``queue``, acked; stops once it has been empty for ``settle`` seconds."""
    messages: list[AbstractIncomingMessage] = []
    empty_since: float | None = None
    while True:
        message = await queue.get(no_ack=True, fail=False)
        if message is not None:
            messages.append(message)
            empty_since = None
            continue
        now = time.monotonic()
        empty_since = empty_since or now
        if now - empty_since >= settle:
            return messages
        await asyncio.sleep(0.02)


async def get_one(queue: AbstractQueue, within: float = 10.0) -> AbstractIncomingMessage:
    """The next message of ``queue`` (acked), waiting up to ``within`` seconds."""
    found: list[AbstractIncomingMessage] = []

    async def arrived() -> bool:
        message = await queue.get(no_ack=True, fail=False)
        if message is not None:
            found.append(message)
        return bool(found)

    await wait_for(arrived, within, f"a message in {queue.name}")
    return found[0]


@pytest.fixture(scope="session")
async def database() -> AsyncIterator[Database]:
    """A database of this run with the outbox, processed-events and counters tables."""
    name = f"service_kit_test_{run_id()}"
    admin = await asyncpg.connect(f"{POSTGRES_URL}/postgres")
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    db = Database(asyncpg_url(name))
    try:
        async with db.engine.begin() as connection:
            await connection.run_sync(METADATA.create_all)
        yield db
    finally:
        await db.dispose()
        admin = await asyncpg.connect(f"{POSTGRES_URL}/postgres")
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


@pytest.fixture
async def clean_tables(database: Database) -> Database:
    """Tests share the session's database: each starts from empty tables, so relays see only its rows."""
    async with database.sessions() as session, session.begin():
        for table in (OUTBOX, PROCESSED, COUNTERS):
            await session.execute(delete(table))
    return database


@pytest.fixture
async def topology() -> AsyncIterator[Topology]:
    namespace = f"test-{run_id()}"
    yield Topology(namespace)
    await delete_namespace(namespace, consumers=CONSUMERS)


@pytest.fixture
async def amqp() -> AsyncIterator[AbstractRobustConnection]:
    connection = await aio_pika.connect_robust(RABBITMQ_URL)
    yield connection
    await connection.close()


async def publish_raw(
    connection: AbstractRobustConnection, topology: Topology, body: bytes, routing_key: str, **properties: Any
) -> None:
    """Publishes straight to the namespace's exchange, with confirms, bypassing the outbox."""
    async with connection.channel(publisher_confirms=True) as channel:
        exchange = await topology.declare_exchange(channel)
        await exchange.publish(
            aio_pika.Message(body=body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT, **properties),
            routing_key=routing_key,
        )
