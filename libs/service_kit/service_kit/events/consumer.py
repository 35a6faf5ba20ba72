"""Event consumers that ack only what they have durably handled.

A service consumer runs each handler in one unit of work together with the
insert of the event's id into ``processed_events``: a repeat delivery finds
the id and is skipped, and the message is acked only after the commit. A
handler that raises gets the message requeued; past the queue's delivery limit
RabbitMQ moves it to the dead-letter queue. Malformed messages go there at once.

Handlers only write through the session they are given. One that must act
outside the database once its writes are committed (tell other replicas)
registers that with ``UnitOfWork.of(session).after_commit``; it runs before
the ack, and a repeat delivery is skipped, so such effects are best-effort.
"""

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Protocol

import aio_pika
import asyncpg
from aio_pika.abc import AbstractIncomingMessage, AbstractRobustConnection
from aio_pika.connection import make_url
from pydantic import ValidationError
from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession
from tenacity import AsyncRetrying, retry_if_exception, wait_exponential

from service_kit.db import Database
from service_kit.events.envelope import EventEnvelope
from service_kit.events.topology import Topology
from service_kit.logging import request_id_var

logger = logging.getLogger(__name__)

EventHandler = Callable[[AsyncSession, EventEnvelope], Awaitable[None]]
MemoryHandler = Callable[[EventEnvelope], Awaitable[None]]


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


def _parse(message: AbstractIncomingMessage) -> EventEnvelope | None:
    try:
        return EventEnvelope.model_validate_json(message.body)
    except ValidationError:
        logger.error("malformed event dead-lettered", extra={"message_id": message.message_id})
        return None


class EventConsumer:
    """Durable, deduplicating consumer of one service's queue."""

    def __init__(
        self,
        database: Database,
        processed_events: Table,
        rabbitmq_url: str,
        topology: Topology,
        consumer_name: str,
        handlers: Mapping[str, EventHandler],
        *,
        prefetch: int = 100,
    ) -> None:
        self._db = database
        self._processed = processed_events
        self._rabbitmq_url = rabbitmq_url
        self._topology = topology
        self._name = consumer_name
        self._handlers = handlers
        self._prefetch = prefetch
        self._connection: AbstractRobustConnection | None = None

    @property
    def connected(self) -> bool:
        return self._connection is not None and not self._connection.is_closed

    async def start(self) -> None:
        self._connection = await _connect(self, self._rabbitmq_url)
        channel = await self._connection.channel()
        await channel.set_qos(prefetch_count=self._prefetch)
        queue = await self._topology.declare_service_queue(channel, self._name, list(self._handlers))
        await queue.consume(self.handle)

    async def stop(self) -> None:
        if self._connection is not None:
            await self._connection.close()

    async def handle(self, message: AbstractIncomingMessage) -> None:
        envelope = _parse(message)
        if envelope is None:
            await message.reject(requeue=False)
            return
        handler = self._handlers.get(envelope.type)
        if handler is None:
            await message.ack()
            return
        token = request_id_var.set(envelope.request_id)
        try:
            # An unreachable database is waited out with the message held, unacked: requeueing
            # would spend the delivery limit and dead-letter good events during an outage.
            async for attempt in AsyncRetrying(
                retry=retry_if_exception(_is_transient),
                wait=wait_exponential(multiplier=0.5, max=30),
                before_sleep=lambda state: logger.warning("database unavailable; retrying event"),
                reraise=True,
            ):
                with attempt:
                    await self._handle_once(handler, envelope)
        except Exception:
            logger.exception("event handler failed; message requeued", extra={"event_type": envelope.type})
            await message.nack(requeue=True)
            return
        finally:
            request_id_var.reset(token)
        await message.ack()

    async def _handle_once(self, handler: EventHandler, envelope: EventEnvelope) -> None:
        async with self._db.unit_of_work() as work:
            session = work.session
            first_time = await session.execute(
                insert(self._processed)
                .values(event_id=envelope.event_id, event_type=envelope.type)
                .on_conflict_do_nothing()
                .returning(self._processed.c.event_id)
            )
            if first_time.first() is not None:
                await handler(session, envelope)


def _is_transient(error: BaseException) -> bool:
    """Connection-level failures, as opposed to a handler that cannot process the event."""
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, OSError | TimeoutError | InterfaceError | asyncpg.PostgresConnectionError) or (
        isinstance(error, OperationalError) and isinstance(error.orig, OSError | asyncpg.PostgresConnectionError)
    )


class BroadcastSubscriber:
    """Every process gets every event, for in-memory views; handlers must be idempotent."""

    def __init__(self, rabbitmq_url: str, topology: Topology, handlers: Mapping[str, MemoryHandler]) -> None:
        self._rabbitmq_url = rabbitmq_url
        self._topology = topology
        self._handlers = handlers
        self._connection: AbstractRobustConnection | None = None

    async def start(self) -> None:
        self._connection = await _connect(self, self._rabbitmq_url)
        channel = await self._connection.channel()
        await channel.set_qos(prefetch_count=100)
        queue = await self._topology.declare_broadcast_queue(channel, list(self._handlers))
        await queue.consume(self.handle)

    async def stop(self) -> None:
        if self._connection is not None:
            await self._connection.close()

    async def handle(self, message: AbstractIncomingMessage) -> None:
        envelope = _parse(message)
        if envelope is None:
            await message.reject(requeue=False)
            return
        handler = self._handlers.get(envelope.type)
        try:
            if handler is not None:
                await handler(envelope)
        except Exception:
            # The queue is this process's own and has no delivery limit: requeueing would loop.
            logger.exception("broadcast handler failed; event dropped", extra={"event_type": envelope.type})
            await message.reject(requeue=False)
            return
        await message.ack()
