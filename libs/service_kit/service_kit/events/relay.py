"""Outbox relay: publishes committed outbox rows with publisher confirms.

Rows are claimed with ``FOR UPDATE SKIP LOCKED`` so several replicas can relay
side by side; a row is marked published only after RabbitMQ confirmed it, in
the same transaction that claimed it. Anything unconfirmed stays unpublished
and is sent again on the next pass, after a crash too, so delivery is at least
once and consumers deduplicate by ``event_id``.
"""

import asyncio
import contextlib
import json
import logging
from datetime import datetime
from typing import Any

import aio_pika
import asyncpg
from aio_pika.abc import AbstractConnection, AbstractExchange
from sqlalchemy import Table, delete, func, select, text, update

from service_kit.db import Database
from service_kit.events.outbox import OUTBOX_CHANNEL
from service_kit.events.topology import Topology

logger = logging.getLogger(__name__)


def _message(envelope: dict[str, Any]) -> aio_pika.Message:
    return aio_pika.Message(
        body=json.dumps(envelope, ensure_ascii=False).encode(),
        content_type="application/json",
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        message_id=str(envelope["event_id"]),
        type=envelope["type"],
        timestamp=datetime.fromisoformat(envelope["occurred_at"]),
        headers={"x-request-id": envelope.get("request_id") or ""},
    )


class OutboxRelay:
    def __init__(
        self,
        database: Database,
        outbox: Table,
        rabbitmq_url: str,
        topology: Topology,
        *,
        batch_size: int = 200,
        poll_seconds: float = 2.0,
        keep_published_days: int = 7,
        confirm_timeout: float = 30.0,
    ) -> None:
        self._db = database
        self._outbox = outbox
        self._rabbitmq_url = rabbitmq_url
        self._topology = topology
        self._batch_size = batch_size
        self._poll_seconds = poll_seconds
        self._keep_published_days = keep_published_days
        self._confirm_timeout = confirm_timeout
        self._wake = asyncio.Event()
        self._listener: asyncpg.Connection | None = None
        self.connected = False

    async def run(self) -> None:
        """Relay until cancelled; broker or database outages are waited out."""
        try:
            while True:
                try:
                    # A plain connection: this loop is the reconnect logic, so nothing else retries.
                    connection = await aio_pika.connect(self._rabbitmq_url, timeout=10)
                    try:
                        await self._relay_with(connection)
                    finally:
                        self.connected = False
                        await connection.close()
                except asyncio.CancelledError:
                    raise
                except Exception:
                    logger.exception("outbox relay failed; retrying")
                    await asyncio.sleep(self._poll_seconds)
        finally:
            if self._listener is not None:
                await self._listener.close()

    async def _relay_with(self, connection: AbstractConnection) -> None:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await self._topology.declare_exchange(channel)
        self.connected = True
        passes = 0
        while True:
            await self._keep_listening()
            # Cleared before the pass, so a NOTIFY that arrives during it triggers another one.
            self._wake.clear()
            while await self.publish_pending(exchange) == self._batch_size:
                pass
            passes += 1
            if passes % 1000 == 0:
                await self._forget_old_rows()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._poll_seconds)

    async def publish_pending(self, exchange: AbstractExchange) -> int:
        """Publish one batch of unpublished rows; returns how many were confirmed."""
        table = self._outbox
        async with self._db.sessions() as session, session.begin():
            rows = (
                await session.execute(
                    select(table.c.id, table.c.envelope)
                    .where(table.c.published_at.is_(None))
                    .order_by(table.c.id)
                    .limit(self._batch_size)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not rows:
                return 0
            # Confirms are awaited together: one await per message would cap throughput. The
            # timeout frees the row locks if a broker stops answering without closing the socket.
            await asyncio.wait_for(
                asyncio.gather(
                    *(exchange.publish(_message(row.envelope), routing_key=row.envelope["type"]) for row in rows)
                ),
                self._confirm_timeout,
            )
            await session.execute(
                update(table).where(table.c.id.in_([row.id for row in rows])).values(published_at=func.now())
            )
        return len(rows)

    async def _forget_old_rows(self) -> None:
        async with self._db.sessions() as session, session.begin():
            await session.execute(
                delete(self._outbox).where(
                    self._outbox.c.published_at < func.now() - text(f"interval '{int(self._keep_published_days)} days'")
                )
            )

    async def _keep_listening(self) -> None:
        """(Re)opens the LISTEN connection; while it is down, polling alone finds new rows."""
        if self._listener is not None and not self._listener.is_closed():
            return
        url = self._db.engine.url.set(drivername="postgresql")
        try:
            listener: asyncpg.Connection = await asyncpg.connect(url.render_as_string(hide_password=False))
            await listener.add_listener(OUTBOX_CHANNEL, lambda *_: self._wake.set())
        except (OSError, asyncpg.PostgresError):
            logger.warning("outbox relay cannot LISTEN; polling every %s s", self._poll_seconds)
            self._listener = None
            return
        self._listener = listener
