"""Outbox and relay against the real PostgreSQL and RabbitMQ."""

import asyncio
import contextlib
import json
import logging
from collections import Counter
from collections.abc import AsyncIterator, Iterable

import aio_pika
import pytest
from aio_pika.abc import AbstractQueue, AbstractRobustConnection
from sqlalchemy import func, select

from service_kit.db import Database
from service_kit.events.data import EventData
from service_kit.events.envelope import EventEnvelope
from service_kit.events.outbox import Outbox
from service_kit.events.relay import OutboxRelay
from service_kit.events.topology import Topology
from service_kit.logging import request_id_var
from service_kit.testing import RABBITMQ_URL

from .conftest import OUTBOX, drain, get_one, wait_for

CLOSED_PORT_URL = "amqp://guest:guest@127.0.0.1:1/"
TYPE = "test.created"
OTHER_TYPE = "test.updated"

pytestmark = pytest.mark.usefixtures("clean_tables")


class Created(EventData):
    """A numbered test event."""

    event_type = TYPE
    producer = "tests"

    n: int


class Offered(EventData):
    """A test event of the same type with other data."""

    event_type = TYPE
    producer = "tests"

    title: str
    price: int | None = None


class Updated(Created):
    """Another type."""

    event_type = OTHER_TYPE


class Unbound(Created):
    """A type no queue is bound to."""

    event_type = "test.unbound"


@pytest.fixture
async def probe(amqp: AbstractRobustConnection, topology: Topology) -> AbstractQueue:
    """A service queue bound to the test's types, declared before anything is published."""
    channel = await amqp.channel()
    return await topology.declare_service_queue(channel, "probe", [TYPE, OTHER_TYPE])


@contextlib.asynccontextmanager
async def running(*relays: OutboxRelay) -> AsyncIterator[None]:
    tasks = [asyncio.create_task(relay.run()) for relay in relays]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
            # A relay that died on its own (rather than being cancelled) is a failure of its own.
            assert task.cancelled(), task.exception()


async def add_events(database: Database, count: int, model: type[Created] = Created) -> list[EventEnvelope]:
    outbox = Outbox(OUTBOX, producer="tests")
    async with database.sessions() as session, session.begin():
        return [await outbox.add(session, model(n=n)) for n in range(count)]


async def unpublished(database: Database) -> int:
    async with database.sessions() as session:
        count = await session.scalar(select(func.count()).where(OUTBOX.c.published_at.is_(None)))
    return int(count or 0)


async def all_published(database: Database) -> bool:
    return await unpublished(database) == 0


def message_ids(messages: Iterable[aio_pika.abc.AbstractIncomingMessage]) -> Counter[str]:
    return Counter(str(message.message_id) for message in messages)


async def test_committed_event_is_published_with_its_properties(
    clean_tables: Database, topology: Topology, probe: AbstractQueue
) -> None:
    database = clean_tables
    outbox = Outbox(OUTBOX, producer="tests")
    token = request_id_var.set("req-0123456789")
    try:
        async with database.sessions() as session, session.begin():
            committed = await outbox.add(session, Offered(title="Квартира", price=100))
        async with database.sessions() as session:
            await session.begin()
            rolled_back = await outbox.add(session, Offered(title="never"))
            await session.rollback()
    finally:
        request_id_var.reset(token)

    async with database.sessions() as session:
        rows = (await session.execute(select(OUTBOX))).all()
    assert [row.event_id for row in rows] == [committed.event_id]
    assert rows[0].published_at is None
    assert rows[0].event_type == TYPE

    relay = OutboxRelay(database, OUTBOX, RABBITMQ_URL, topology, poll_seconds=0.1)
    async with running(relay):
        await wait_for(lambda: all_published(database), what="the outbox row to be marked published")
        message = await get_one(probe)

    assert message.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
    assert message.message_id == str(committed.event_id)
    assert message.routing_key == TYPE
    assert message.exchange == topology.exchange
    assert message.type == TYPE
    assert message.content_type == "application/json"
    assert message.headers.get("x-request-id") == "req-0123456789"
    received = EventEnvelope.model_validate_json(message.body)
    assert received == committed
    assert json.loads(message.body)["data"] == {"title": "Квартира", "price": 100}

    async with database.sessions() as session:
        published_at = await session.scalar(select(OUTBOX.c.published_at))
    assert published_at is not None
    # Nothing else arrives: not the rolled-back event, not a second copy.
    assert [m.message_id for m in await drain(probe)] == []
    assert rolled_back.event_id != committed.event_id


async def test_routing_key_is_the_event_type(clean_tables: Database, topology: Topology, probe: AbstractQueue) -> None:
    created = await add_events(clean_tables, 1, Created)
    updated = await add_events(clean_tables, 1, Updated)
    ignored = await add_events(clean_tables, 1, Unbound)
    relay = OutboxRelay(clean_tables, OUTBOX, RABBITMQ_URL, topology, poll_seconds=0.1)
    async with running(relay):
        await wait_for(lambda: all_published(clean_tables), what="all rows published")
    messages = await drain(probe)
    assert {(m.routing_key, m.message_id) for m in messages} == {
        (TYPE, str(created[0].event_id)),
        (OTHER_TYPE, str(updated[0].event_id)),
    }
    # An event nobody is bound to is still confirmed and marked published, not retried forever.
    assert str(ignored[0].event_id) not in message_ids(messages)


async def test_relay_wakes_on_notify_without_waiting_for_the_poll(
    clean_tables: Database, topology: Topology, probe: AbstractQueue
) -> None:
    relay = OutboxRelay(clean_tables, OUTBOX, RABBITMQ_URL, topology, poll_seconds=60)
    async with running(relay):

        async def connected() -> bool:
            return relay.connected

        await wait_for(connected, what="the relay to connect")
        for _ in range(3):
            [event] = await add_events(clean_tables, 1)
            # Far below the 60 s poll: only LISTEN/NOTIFY can make it this fast.
            message = await get_one(probe, within=5)
            assert message.message_id == str(event.event_id)


async def test_broker_outage_keeps_rows_until_a_relay_gets_through(
    clean_tables: Database, topology: Topology, probe: AbstractQueue, caplog: pytest.LogCaptureFixture
) -> None:
    database = clean_tables
    events = await add_events(database, 20)

    caplog.set_level(logging.ERROR, logger="service_kit.events.relay")
    broken = OutboxRelay(database, OUTBOX, CLOSED_PORT_URL, topology, poll_seconds=0.05)
    async with running(broken):

        async def failed_twice() -> bool:
            return sum("retrying" in record.getMessage() for record in caplog.records) >= 2

        await wait_for(failed_twice, what="the relay to fail to connect twice")
        assert not broken.connected
    assert await unpublished(database) == len(events)
    assert await drain(probe, settle=0.1) == []

    relay = OutboxRelay(database, OUTBOX, RABBITMQ_URL, topology, poll_seconds=0.05, batch_size=7)
    async with running(relay):
        await wait_for(lambda: all_published(database), what="the backlog to be published")
        backlog = message_ids(await drain(probe))
        assert backlog == Counter(str(event.event_id) for event in events), "each row exactly once"

        # The next passes send only what is new, never the rows already published.
        [later] = await add_events(database, 1)
        await wait_for(lambda: all_published(database), what="the new row to be published")
        assert message_ids(await drain(probe)) == Counter({str(later.event_id): 1})


async def test_concurrent_relays_publish_each_row_once(
    clean_tables: Database, topology: Topology, probe: AbstractQueue, amqp: AbstractRobustConnection
) -> None:
    database = clean_tables
    batch = 25
    events = await add_events(database, 6 * batch)
    first = OutboxRelay(database, OUTBOX, RABBITMQ_URL, topology, batch_size=batch)
    second = OutboxRelay(database, OUTBOX, RABBITMQ_URL, topology, batch_size=batch)
    channel = await amqp.channel(publisher_confirms=True)
    exchange = await topology.declare_exchange(channel)

    # Two passes at once: the second skips the rows the first has locked instead of waiting or repeating them.
    counts = await asyncio.gather(first.publish_pending(exchange), second.publish_pending(exchange))
    assert list(counts) == [batch, batch]
    total = sum(counts)
    while any(counts := await asyncio.gather(first.publish_pending(exchange), second.publish_pending(exchange))):
        total += sum(counts)
    assert total == len(events)
    assert message_ids(await drain(probe)) == Counter(str(event.event_id) for event in events)


async def test_concurrent_running_relays_publish_each_row_once(
    clean_tables: Database, topology: Topology, probe: AbstractQueue
) -> None:
    database = clean_tables
    events = await add_events(database, 300)
    relays = [OutboxRelay(database, OUTBOX, RABBITMQ_URL, topology, batch_size=20, poll_seconds=0.05) for _ in range(2)]
    async with running(*relays):
        more = await add_events(database, 100)
        await wait_for(lambda: all_published(database), what="every row to be published")
        received = message_ids(await drain(probe))
    assert received == Counter(str(event.event_id) for event in [*events, *more])


async def test_no_wakeup_is_lost_while_a_pass_is_running(
    clean_tables: Database, topology: Topology, probe: AbstractQueue
) -> None:
    """Rows committed while the relay is publishing must not wait for the next poll."""
    relay = OutboxRelay(clean_tables, OUTBOX, RABBITMQ_URL, topology, poll_seconds=60)
    async with running(relay):

        async def connected() -> bool:
            return relay.connected

        await wait_for(connected, what="the relay to connect")
        events = [event for _ in range(40) for event in await add_events(clean_tables, 1)]
        await wait_for(lambda: all_published(clean_tables), within=5, what="rows committed during passes")
    assert message_ids(await drain(probe)) == Counter(str(event.event_id) for event in events)
