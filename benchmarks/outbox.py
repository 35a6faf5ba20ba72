"""Event relay throughput: rows put into a service's outbox table (as its own writes
would leave them) until the service's relay has published them all, against a plain
aio-pika publisher sending the same messages with publisher confirms, in batches, to the
same exchange."""

import asyncio
import json
import multiprocessing
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime

import aio_pika
import asyncpg

from benchmarks.population import Chat

BASELINE_BATCH = 500


def message_sent_envelopes(chats: Sequence[Chat], count: int, first_seq: int) -> list[dict[str, object]]:
    """``message.sent`` events as contracts/events/message.sent.json describes them."""
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    envelopes: list[dict[str, object]] = []
    for index in range(count):
        chat = chats[index % len(chats)]
        envelopes.append(
            {
                "event_id": str(uuid.uuid4()),
                "type": "message.sent",
                "version": 1,
                "occurred_at": now,
                "producer": "chat",
                "request_id": None,
                "data": {
                    "message_id": 10_000_000 + first_seq + index,
                    "chat_id": chat.id,
                    "seq": first_seq + index // len(chats) + 1,
                    "sender_id": chat.buyer.id,
                    "recipient_id": chat.seller.id,
                    "property_id": 1,
                    "text": "Здравствуйте, квартира ещё продаётся?",
                    "created_at": now,
                },
            }
        )
    return envelopes


def _plain(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def relay_rate(database_url: str, envelopes: list[dict[str, object]], within: float = 120.0) -> float:
    """Events per second the service's relay publishes, from its first batch until the outbox is empty."""
    connection = await asyncpg.connect(_plain(database_url))
    try:
        records = [
            (uuid.UUID(str(e["event_id"])), str(e["type"]), json.dumps(e, ensure_ascii=False)) for e in envelopes
        ]
        await connection.copy_records_to_table(
            "outbox", records=records, columns=["event_id", "event_type", "envelope"]
        )
        count = "SELECT count(*) FROM outbox WHERE published_at IS NULL"
        inserted_at = time.monotonic()
        deadline = inserted_at + within
        total = len(envelopes)
        started_at, pending_at_start = 0.0, total
        while (pending := await connection.fetchval(count)) > 0:
            if pending < total and not started_at:
                started_at, pending_at_start = time.monotonic(), pending
            if time.monotonic() > deadline:
                raise TimeoutError(f"the outbox relay left {pending} of {total} events unpublished")
            await asyncio.sleep(0.01)
        finished = time.monotonic()
    finally:
        await connection.close()
    if not started_at:  # all of it went in one pass between two looks: count from the insert
        started_at, pending_at_start = inserted_at, total
    return pending_at_start / (finished - started_at)


async def _publish(rabbitmq_url: str, exchange_name: str, envelopes: list[dict[str, object]], at: float) -> float:
    connection = await aio_pika.connect(rabbitmq_url)
    try:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange(exchange_name, ensure=True)
        messages = [
            aio_pika.Message(
                body=json.dumps(envelope, ensure_ascii=False).encode(),
                content_type="application/json",
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                message_id=str(envelope["event_id"]),
                type=str(envelope["type"]),
            )
            for envelope in envelopes
        ]
        await asyncio.sleep(max(0.0, at - time.monotonic()))
        for offset in range(0, len(messages), BASELINE_BATCH):
            batch = messages[offset : offset + BASELINE_BATCH]
            await asyncio.gather(*(exchange.publish(message, routing_key="message.sent") for message in batch))
        return time.monotonic()
    finally:
        await connection.close()


def _publisher_process(rabbitmq_url: str, exchange_name: str, envelopes: list[dict[str, object]], at: float) -> float:
    return asyncio.run(_publish(rabbitmq_url, exchange_name, envelopes, at))


def publisher_rate(rabbitmq_url: str, exchange_name: str, envelopes: list[dict[str, object]], publishers: int) -> float:
    """The same messages, persistent, confirmed a batch at a time, with aio-pika alone.

    As many publisher processes as the service has relaying replicas, starting together
    (the monotonic clock is the machine's, so a start time can be handed to each).
    """
    context = multiprocessing.get_context("spawn")
    at = time.monotonic() + 3.0
    with ProcessPoolExecutor(publishers, mp_context=context) as pool:
        parts = [envelopes[index::publishers] for index in range(publishers)]
        ends = [pool.submit(_publisher_process, rabbitmq_url, exchange_name, part, at) for part in parts]
        finished = max(end.result() for end in ends)
    return len(envelopes) / (finished - at)
