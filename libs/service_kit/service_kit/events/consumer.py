"""Event consumers that ack only what they have durably handled.

A service consumer runs each handler in one unit of work together with the
insert of the event's id into ``processed_events``: a repeat delivery finds
the id and is skipped, and the message is acked only after the commit. Handlers
subscribe to an event model (``subscribe(UserDeleted, handler)``) and get the
unit of work and the event with ``data`` parsed into it; no handler reads a raw
dict. A handler that must act outside the database once its writes are
committed (tell other replicas) registers that with ``work.after_commit``; it
runs before the ack, and a repeat delivery is skipped, so such effects are
best-effort.

What happens to a message:
- not an envelope at all: dead-lettered at once;
- a type no handler subscribes to: acked and skipped;
- a subscribed type in a version no model of this consumer describes: dead-lettered
  at once, kept for a replay once the consumer knows that version (the upgrade
  order is: consumers handle the new version first, then the producer sends it);
- data that does not fit the model, or a handler that raises: requeued; past the
  queue's delivery limit RabbitMQ moves it to the dead-letter queue.
"""

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

import aio_pika
import asyncpg
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractRobustConnection
from aio_pika.connection import make_url
from pydantic import ValidationError
from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from tenacity import AsyncRetrying, retry_if_exception, wait_exponential

from service_kit.db import Database, UnitOfWork
from service_kit.events.data import D, Event, parse_event
from service_kit.events.envelope import EventEnvelope
from service_kit.events.topology import Topology
from service_kit.logging import request_id_var

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Subscription(Generic[D]):
    """Handles one event model in the consumer's unit of work (it writes through ``work.session``)."""

    model: type[D]
    handler: Callable[[UnitOfWork, Event[D]], Awaitable[None]]


@dataclass(frozen=True)
class MemorySubscription(Generic[D]):
    """Handles one event model in memory, in every process (``BroadcastSubscriber``)."""

    model: type[D]
    handler: Callable[[Event[D]], Awaitable[None]]


def subscribe(model: type[D], handler: Callable[[UnitOfWork, Event[D]], Awaitable[None]]) -> Subscription[Any]:
    """A subscription whose handler is checked against the model here (a list of them cannot check it)."""
    return Subscription(model, handler)


def subscribe_in_memory(model: type[D], handler: Callable[[Event[D]], Awaitable[None]]) -> MemorySubscription[Any]:
    """As ``subscribe``, for a ``BroadcastSubscriber``."""
    return MemorySubscription(model, handler)


S = TypeVar("S", Subscription[Any], MemorySubscription[Any])


class _Routes(Generic[S]):
    """Subscriptions by event type and version."""

    def __init__(self, subscriptions: Sequence[S]) -> None:
        self._by_key: dict[tuple[str, int], S] = {}
        for subscription in subscriptions:
            key = (subscription.model.event_type, subscription.model.event_version)
            if key in self._by_key:
                raise ValueError(f"two subscriptions to {key[0]} version {key[1]}")
            self._by_key[key] = subscription
        self.event_types = sorted({event_type for event_type, _ in self._by_key})

    async def take(self, message: AbstractIncomingMessage) -> tuple[EventEnvelope, S] | None:
        """The envelope and its subscription; None once the message is settled here (see the module's docstring)."""
        try:
            envelope = EventEnvelope.model_validate_json(message.body)
        except ValidationError:
            logger.error("malformed event dead-lettered", extra={"message_id": message.message_id})
            await message.reject(requeue=False)
            return None
        subscription = self._by_key.get((envelope.type, envelope.version))
        if subscription is not None:
            return envelope, subscription
        if envelope.type in self.event_types:
            logger.error(
                "event version not understood; dead-lettered",
                extra={"event_type": envelope.type, "event_version": envelope.version},
            )
            await message.reject(requeue=False)
        else:
            await message.ack()  # a type nobody here subscribes to
        return None


class _HasConnection(Protocol):
    _connection: AbstractRobustConnection | None


async def _connect(owner: _HasConnection, url: str) -> AbstractRobustConnection:
    """Keeps the connection reachable while it connects, so ``stop`` can end a pending attempt.

    A cancelled ``connect_robust`` would otherwise go on reconnecting in the background.
    """
    connection = aio_pika.RobustConnection(make_url(url))
    owner._connection = connection
    try:
        await connection.connect()
    except BaseException:
        await connection.close()
        owner._connection = None
        raise
    return connection


class _QueueReader:
    """The connection part both consumers share."""

    def __init__(self, rabbitmq_url: str, topology: Topology, prefetch: int) -> None:
        self._rabbitmq_url = rabbitmq_url
        self._topology = topology
        self._prefetch = prefetch
        self._connection: AbstractRobustConnection | None = None

    @property
    def connected(self) -> bool:
        return self._connection is not None and not self._connection.is_closed

    async def _channel(self) -> AbstractChannel:
        connection = await _connect(self, self._rabbitmq_url)
        channel = await connection.channel()
        await channel.set_qos(prefetch_count=self._prefetch)
        return channel

    async def stop(self) -> None:
        if self._connection is not None:
            await self._connection.close()


class EventConsumer(_QueueReader):
    """Durable, deduplicating consumer of one service's queue."""

    def __init__(
        self,
        database: Database,
        processed_events: Table,
        rabbitmq_url: str,
        topology: Topology,
        consumer_name: str,
        subscriptions: Sequence[Subscription[Any]],
        *,
        prefetch: int = 100,
    ) -> None:
        super().__init__(rabbitmq_url, topology, prefetch)
        self._db = database
        self._processed = processed_events
        self._name = consumer_name
        self._routes = _Routes(subscriptions)

    @property
    def event_types(self) -> list[str]:
        return self._routes.event_types

    async def start(self) -> None:
        channel = await self._channel()
        queue = await self._topology.declare_service_queue(channel, self._name, self.event_types)
        await queue.consume(self.handle)

    async def handle(self, message: AbstractIncomingMessage) -> None:
        routed = await self._routes.take(message)
        if routed is None:
            return
        envelope, subscription = routed
        token = request_id_var.set(envelope.request_id)
        try:
            event = parse_event(envelope, subscription.model)
            # An unreachable database is waited out with the message held, unacked: requeueing
            # would spend the delivery limit and dead-letter good events during an outage.
            async for attempt in AsyncRetrying(
                retry=retry_if_exception(_is_transient),
                wait=wait_exponential(multiplier=0.5, max=30),
                before_sleep=lambda state: logger.warning("database unavailable; retrying event"),
                reraise=True,
            ):
                with attempt:
                    await self._handle_once(subscription, event)
        except Exception:
            logger.exception("event handler failed; message requeued", extra={"event_type": envelope.type})
            await message.nack(requeue=True)
            return
        finally:
            request_id_var.reset(token)
        await message.ack()

    async def _handle_once(self, subscription: Subscription[Any], event: Event[Any]) -> None:
        async with self._db.unit_of_work() as work:
            first_time = await work.session.execute(
                insert(self._processed)
                .values(event_id=event.event_id, event_type=event.type)
                .on_conflict_do_nothing()
                .returning(self._processed.c.event_id)
            )
            if first_time.first() is not None:
                await subscription.handler(work, event)


def _is_transient(error: BaseException) -> bool:
    """Connection-level failures, as opposed to a handler that cannot process the event."""
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, OSError | TimeoutError | InterfaceError | asyncpg.PostgresConnectionError) or (
        isinstance(error, OperationalError) and isinstance(error.orig, OSError | asyncpg.PostgresConnectionError)
    )


class BroadcastSubscriber(_QueueReader):
    """Every process gets every event, for in-memory views; handlers must be idempotent."""

    def __init__(self, rabbitmq_url: str, topology: Topology, subscriptions: Sequence[MemorySubscription[Any]]) -> None:
        super().__init__(rabbitmq_url, topology, prefetch=100)
        self._routes = _Routes(subscriptions)

    async def start(self) -> None:
        channel = await self._channel()
        queue = await self._topology.declare_broadcast_queue(channel, self._routes.event_types)
        await queue.consume(self.handle)

    async def handle(self, message: AbstractIncomingMessage) -> None:
        routed = await self._routes.take(message)
        if routed is None:
            return
        envelope, subscription = routed
        try:
            await subscription.handler(parse_event(envelope, subscription.model))
        except Exception:
            # The queue is this process's own and has no delivery limit: requeueing would loop.
            logger.exception("broadcast handler failed; event dropped", extra={"event_type": envelope.type})
            await message.reject(requeue=False)
            return
        await message.ack()
