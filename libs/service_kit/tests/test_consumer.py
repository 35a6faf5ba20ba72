"""EventConsumer and BroadcastSubscriber against the real PostgreSQL and RabbitMQ."""

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aio_pika.abc import AbstractIncomingMessage, AbstractRobustConnection
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert

from service_kit.db import Database, UnitOfWork
from service_kit.events.consumer import (
    BroadcastSubscriber,
    EventConsumer,
    Subscription,
    subscribe,
    subscribe_in_memory,
)
from service_kit.events.data import Event, EventData
from service_kit.events.envelope import EventEnvelope
from service_kit.events.topology import DELIVERY_LIMIT, Topology
from service_kit.logging import request_id_var
from service_kit.testing import RABBITMQ_URL

from .conftest import COUNTERS, PROCESSED, drain, get_one, publish_raw, wait_for

TYPE = "item.added"

pytestmark = pytest.mark.usefixtures("clean_tables")


class ItemAdded(EventData):
    """A test event: one counter key."""

    event_type = TYPE
    producer = "tests"

    key: str
    poison: bool = False


class ItemRemoved(ItemAdded):
    """Another type with the same data."""

    event_type = "item.removed"


class Recorder:
    """Handlers that bump a counter row per event key, and remember what they saw."""

    def __init__(self) -> None:
        self.attempts: Counter[str] = Counter()
        self.request_ids: list[str | None] = []
        self.release = asyncio.Event()
        self.release.set()
        self.entered = asyncio.Event()
        self.crash_on_release = False

    async def count(self, work: UnitOfWork, event: Event[ItemAdded]) -> None:
        key = event.data.key
        self.attempts[key] += 1
        self.request_ids.append(request_id_var.get())
        await work.session.execute(
            insert(COUNTERS)
            .values(key=key, hits=1)
            .on_conflict_do_update(index_elements=[COUNTERS.c.key], set_={"hits": COUNTERS.c.hits + 1})
        )
        if event.data.poison:
            raise RuntimeError("this event always fails")
        if not self.release.is_set():
            self.entered.set()
            await self.release.wait()
            if self.crash_on_release:
                raise RuntimeError("crashed before commit")


class CountingConsumer(EventConsumer):
    """Counts messages whose handling finished (ack, nack or reject sent)."""

    handled = 0

    async def handle(self, message: AbstractIncomingMessage) -> None:
        await super().handle(message)
        self.handled += 1


@contextlib.asynccontextmanager
async def consuming(
    database: Database, topology: Topology, handlers: list[Subscription[Any]], **options: Any
) -> AsyncIterator[CountingConsumer]:
    consumer = CountingConsumer(database, PROCESSED, RABBITMQ_URL, topology, "svc", handlers, **options)
    await consumer.start()
    try:
        yield consumer
    finally:
        await consumer.stop()


def event(key: str, **data: Any) -> EventEnvelope:
    return EventEnvelope(type=TYPE, producer="tests", data={"key": key, **data})


async def publish(amqp: AbstractRobustConnection, topology: Topology, envelope: EventEnvelope) -> None:
    await publish_raw(
        amqp, topology, envelope.model_dump_json().encode(), envelope.type, message_id=str(envelope.event_id)
    )


async def hits(database: Database, key: str) -> int | None:
    async with database.sessions() as session:
        return await session.scalar(select(COUNTERS.c.hits).where(COUNTERS.c.key == key))


async def processed_count(database: Database) -> int:
    async with database.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(PROCESSED)) or 0)


async def ready_messages(amqp: AbstractRobustConnection, queue: str) -> int:
    async with amqp.channel() as channel:
        declared = await channel.declare_queue(queue, passive=True)
        return int(declared.declaration_result.message_count or 0)


async def test_duplicate_delivery_changes_the_table_once(
    clean_tables: Database, topology: Topology, amqp: AbstractRobustConnection
) -> None:
    recorder = Recorder()
    twice = event("dup")
    twice_with_request = twice.model_copy(update={"request_id": "req-from-producer"})
    async with consuming(clean_tables, topology, [subscribe(ItemAdded, recorder.count)]) as consumer:
        await publish(amqp, topology, twice_with_request)
        await publish(amqp, topology, twice_with_request)
        await publish(amqp, topology, event("other"))

        async def all_handled() -> bool:
            return consumer.handled == 3

        await wait_for(all_handled, what="three deliveries handled")
    assert await hits(clean_tables, "dup") == 1
    assert await hits(clean_tables, "other") == 1
    assert recorder.attempts == Counter({"dup": 1, "other": 1})
    assert await processed_count(clean_tables) == 2
    # The handler runs under the producer's request id, and the context is restored afterwards.
    assert "req-from-producer" in recorder.request_ids
    assert request_id_var.get() is None
    # Stopping returns any unacked message to the queue: none may be left.
    assert await ready_messages(amqp, topology.queue("svc")) == 0


async def test_ack_comes_only_after_commit(
    clean_tables: Database, topology: Topology, amqp: AbstractRobustConnection
) -> None:
    """A consumer that dies mid-transaction must not lose the message: it is redelivered and applied once."""
    recorder = Recorder()
    recorder.release.clear()
    recorder.crash_on_release = True
    envelope = event("crash")
    async with consuming(clean_tables, topology, [subscribe(ItemAdded, recorder.count)]):
        await publish(amqp, topology, envelope)
        await asyncio.wait_for(recorder.entered.wait(), 10)
        # Mid-handler: neither the change nor the processed id is visible, the message is not in "ready".
        assert await hits(clean_tables, "crash") is None
        assert await processed_count(clean_tables) == 0
        assert await ready_messages(amqp, topology.queue("svc")) == 0
    recorder.release.set()  # the dying consumer's transaction rolls back

    healthy = Recorder()
    async with consuming(clean_tables, topology, [subscribe(ItemAdded, healthy.count)]) as consumer:

        async def applied() -> bool:
            return await hits(clean_tables, "crash") == 1 and consumer.handled >= 1

        await wait_for(applied, what="the redelivered event to be applied")
    assert healthy.attempts == Counter({"crash": 1})
    assert await processed_count(clean_tables) == 1
    assert await ready_messages(amqp, topology.queue("svc")) == 0


async def test_poison_message_is_dead_lettered_without_blocking_others(
    clean_tables: Database, topology: Topology, amqp: AbstractRobustConnection
) -> None:
    recorder = Recorder()
    poison = event("poison", poison=True)
    good = [event(f"good-{n}") for n in range(5)]
    async with consuming(clean_tables, topology, [subscribe(ItemAdded, recorder.count)], prefetch=1):
        channel = await amqp.channel()
        dead_letters = await channel.declare_queue(topology.dead_letter_queue, passive=True)
        await publish(amqp, topology, poison)
        for envelope in good:
            await publish(amqp, topology, envelope)

        dead = await get_one(dead_letters, within=15)

        async def good_applied() -> bool:
            return all([await hits(clean_tables, envelope.data["key"]) == 1 for envelope in good])

        await wait_for(good_applied, what="the good events behind the poison one")
        assert dead.message_id == str(poison.event_id)
        assert EventEnvelope.model_validate_json(dead.body) == poison
        assert DELIVERY_LIMIT <= recorder.attempts["poison"] <= DELIVERY_LIMIT + 1
        death = dead.headers["x-death"][0]  # type: ignore[index]
        assert death["reason"] == "delivery_limit"  # type: ignore[index,call-overload]
        # Each failed attempt rolled back: neither the handler's change nor the processed id stayed.
        assert await hits(clean_tables, "poison") is None
        async with clean_tables.sessions() as session:
            assert (
                await session.scalar(select(PROCESSED.c.event_id).where(PROCESSED.c.event_id == poison.event_id))
                is None
            )
        assert await drain(dead_letters, settle=0.1) == []
    assert await ready_messages(amqp, topology.queue("svc")) == 0


@pytest.mark.parametrize(
    "body",
    [
        b"not json at all",
        b"\xff\xfe binary",
        b'{"type": "item.added", "producer": "tests"}',
        b'{"type": "Item Added!", "producer": "tests", "data": {}}',
        b'["a", "list"]',
    ],
    ids=["text", "binary", "missing-data", "bad-type", "not-an-object"],
)
async def test_malformed_message_goes_straight_to_dead_letters(
    clean_tables: Database, topology: Topology, amqp: AbstractRobustConnection, body: bytes
) -> None:
    recorder = Recorder()
    async with consuming(clean_tables, topology, [subscribe(ItemAdded, recorder.count)]) as consumer:
        channel = await amqp.channel()
        dead_letters = await channel.declare_queue(topology.dead_letter_queue, passive=True)
        await publish_raw(amqp, topology, body, TYPE, message_id="malformed-1")
        dead = await get_one(dead_letters)
        assert dead.body == body
        death = dead.headers["x-death"][0]  # type: ignore[index]
        assert death["reason"] == "rejected"  # type: ignore[index,call-overload]
        assert consumer.handled == 1, "dead-lettered on the first delivery, not after retries"
    assert not recorder.attempts
    assert await processed_count(clean_tables) == 0


async def test_a_version_without_a_model_goes_straight_to_dead_letters(
    clean_tables: Database, topology: Topology, amqp: AbstractRobustConnection
) -> None:
    """Kept for a replay once the consumer knows the version; never applied with a wrong reading."""
    recorder = Recorder()
    newer = EventEnvelope(type=TYPE, version=2, producer="tests", data={"key": "v2"})
    async with consuming(clean_tables, topology, [subscribe(ItemAdded, recorder.count)]) as consumer:
        channel = await amqp.channel()
        dead_letters = await channel.declare_queue(topology.dead_letter_queue, passive=True)
        await publish(amqp, topology, newer)
        dead = await get_one(dead_letters)
        assert EventEnvelope.model_validate_json(dead.body) == newer
        assert dead.headers["x-death"][0]["reason"] == "rejected"  # type: ignore[index,call-overload]
        assert consumer.handled == 1
    assert not recorder.attempts
    assert await processed_count(clean_tables) == 0


async def test_data_that_does_not_fit_the_model_is_retried_then_dead_lettered(
    clean_tables: Database, topology: Topology, amqp: AbstractRobustConnection
) -> None:
    recorder = Recorder()
    unfit = EventEnvelope(type=TYPE, producer="tests", data={"key": ["not", "text"]})
    good = event("after-the-unfit-one")
    async with consuming(clean_tables, topology, [subscribe(ItemAdded, recorder.count)], prefetch=1):
        channel = await amqp.channel()
        dead_letters = await channel.declare_queue(topology.dead_letter_queue, passive=True)
        await publish(amqp, topology, unfit)
        await publish(amqp, topology, good)
        dead = await get_one(dead_letters, within=15)
        assert dead.message_id == str(unfit.event_id)
        assert dead.headers["x-death"][0]["reason"] == "delivery_limit"  # type: ignore[index,call-overload]

        async def good_applied() -> bool:
            return await hits(clean_tables, "after-the-unfit-one") == 1

        await wait_for(good_applied, what="the event behind the unfit one")
    assert recorder.attempts == Counter({"after-the-unfit-one": 1}), "the handler never saw the unfit data"


async def test_fields_a_newer_producer_added_are_ignored(
    clean_tables: Database, topology: Topology, amqp: AbstractRobustConnection
) -> None:
    recorder = Recorder()
    richer = event("richer", added_later={"nested": [1, 2]})
    async with consuming(clean_tables, topology, [subscribe(ItemAdded, recorder.count)]) as consumer:
        await publish(amqp, topology, richer)

        async def handled() -> bool:
            return consumer.handled == 1

        await wait_for(handled, what="the richer event")
    assert await hits(clean_tables, "richer") == 1
    assert await processed_count(clean_tables) == 1


async def test_unhandled_type_is_acked_and_skipped(
    clean_tables: Database, topology: Topology, amqp: AbstractRobustConnection
) -> None:
    recorder = Recorder()
    handlers = [subscribe(ItemAdded, recorder.count), subscribe(ItemRemoved, recorder.count)]
    async with consuming(clean_tables, topology, handlers) as consumer:
        # Bound via the handlers' types; "item.removed" arrives with a body of another type.
        stray = EventEnvelope(type="item.renamed", producer="tests", data={"key": "x"})
        await publish_raw(amqp, topology, stray.model_dump_json().encode(), "item.removed")

        async def handled() -> bool:
            return consumer.handled == 1

        await wait_for(handled, what="the stray message")
    assert not recorder.attempts
    assert await ready_messages(amqp, topology.queue("svc")) == 0


async def test_broadcast_reaches_every_subscriber(topology: Topology, amqp: AbstractRobustConnection) -> None:
    seen: dict[str, list[Event[ItemAdded]]] = {"a": [], "b": []}

    def recorder(name: str) -> Any:
        async def handler(event: Event[ItemAdded]) -> None:
            seen[name].append(event)

        return handler

    subscribers = [
        BroadcastSubscriber(RABBITMQ_URL, topology, [subscribe_in_memory(ItemAdded, recorder(name))]) for name in seen
    ]
    for subscriber in subscribers:
        await subscriber.start()
    try:
        events = [event(f"b-{n}") for n in range(3)]
        for envelope in events:
            await publish(amqp, topology, envelope)
        await publish(amqp, topology, EventEnvelope(type="item.ignored", producer="tests", data={}))

        async def everyone_has_all() -> bool:
            return all(len(received) >= len(events) for received in seen.values())

        await wait_for(everyone_has_all, what="both subscribers to receive every event")
    finally:
        for subscriber in subscribers:
            await subscriber.stop()
    for received in seen.values():
        assert sorted(str(e.event_id) for e in received) == sorted(str(e.event_id) for e in events)
