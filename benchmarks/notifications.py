"""Notification rows: a match on the buyer's notifications socket, and a message's push decision,
each beside the raw fan-out baseline (one frame through the bare relay's Redis pub/sub).

- ``match_on_socket``: the probe buyer (whose request each probe listing fits, benchmarks/matching.py)
  holds ``WS /notifications/ws`` through the gateway; the realtor posts a listing; the time until
  the buyer's socket shows the match. It includes the matching itself: listings' outbox, RabbitMQ,
  the requests service, its outbox, RabbitMQ again, the notifications service, Redis, the socket.
- ``push_decision``: a buyer sends a chat message over the chat socket while the seller (with a
  registered device) is away; from the message's ack (it is committed) until the notifications
  database holds the seller's notification of it, whose push status is the decision (queued,
  coalesced, ...).
- ``relay_latency``: the same distance for one frame with nothing but Redis between two processes.
"""

import asyncio
import json
import time
import uuid
from typing import Any

import aio_pika
import asyncpg
import httpx
from websockets.asyncio.client import ClientConnection, connect

from benchmarks.matching import PROBE_PRICE_RUB, Probe
from benchmarks.population import Chat, User, create_listing
from benchmarks.system import BenchError

WITHIN_SECONDS = 10.0


def _ws(http_url: str) -> str:
    return http_url.replace("http://", "ws://", 1)


async def _frame(socket: ClientConnection, deadline: float) -> dict[str, Any]:
    left = deadline - time.perf_counter()
    if left <= 0:
        raise BenchError("no frame in time")
    frame: dict[str, Any] = json.loads(await asyncio.wait_for(socket.recv(), left))
    return frame


async def queue_settled(rabbitmq_url: str, queue: str, within: float = 600.0) -> None:
    """Until the service's queue is empty: the outbox rows publish message.sent events the notifications
    service consumes too, and a latency row must not be measured behind that backlog."""
    connection = await aio_pika.connect(rabbitmq_url)
    try:
        channel = await connection.channel()
        deadline = time.monotonic() + within
        empty = 0
        while empty < 3:  # three looks in a row: the replicas' prefetched deliveries are settled too
            declared = await channel.declare_queue(queue, passive=True)
            empty = empty + 1 if declared.declaration_result.message_count == 0 else 0
            if time.monotonic() > deadline:
                raise BenchError(f"{queue} still holds {declared.declaration_result.message_count} events")
            await asyncio.sleep(0.2)
    finally:
        await connection.close()


async def relay_latency(relay_a: str, relay_b: str, key: str, count: int) -> list[float]:
    """Milliseconds for one frame from a socket on one relay process to a socket on the other, unloaded."""
    latencies = []
    async with (
        connect(f"{relay_b}/ws/{key}", compression=None) as receiver,
        connect(f"{relay_a}/ws/{key}", compression=None) as sender,
    ):
        await asyncio.sleep(0.2)  # both sockets registered with their process
        for index in range(count):
            started = time.perf_counter()
            await sender.send(f"probe {index}")
            deadline = started + WITHIN_SECONDS
            while await asyncio.wait_for(receiver.recv(), deadline - time.perf_counter()) != f"probe {index}":
                pass
            latencies.append((time.perf_counter() - started) * 1000)
            await asyncio.sleep(0.02)
    return latencies


async def _notifications_socket(gateway: str, user: User) -> ClientConnection:
    """The user's socket through the gateway; retried while no replica passed the gateway's health check yet."""
    for _ in range(100):
        try:
            socket = await connect(f"{_ws(gateway)}/notifications/ws?token={user.token}", compression=None)
        except OSError:
            await asyncio.sleep(0.1)
            continue
        except Exception as error:  # a 503 handshake while the gateway waits for a healthy replica
            if "503" not in str(error):
                raise
            await asyncio.sleep(0.1)
            continue
        hello = json.loads(await asyncio.wait_for(socket.recv(), WITHIN_SECONDS))
        if hello.get("type") != "hello":
            raise BenchError(f"expected the notifications hello frame, got {hello}")
        return socket
    raise BenchError("the notifications socket never opened through the gateway")


async def match_on_socket(probe: Probe, count: int) -> list[float]:
    """Milliseconds from posting a listing that fits the probe request to its match on the buyer's socket."""
    latencies = []
    socket = await _notifications_socket(probe.gateway, probe.buyer)
    try:
        async with httpx.AsyncClient(base_url=probe.gateway, timeout=30) as client:
            for _ in range(count):
                started = time.perf_counter()
                property_id = await create_listing(client, probe.realtor, PROBE_PRICE_RUB)
                deadline = started + WITHIN_SECONDS
                while True:
                    frame = await _frame(socket, deadline)
                    if frame.get("type") == "notification" and frame["data"].get("property_id") == property_id:
                        break
                latencies.append((time.perf_counter() - started) * 1000)
    finally:
        await socket.close()
    return latencies


async def register_devices(gateway: str, sellers: list[User]) -> None:
    """Each seller has a phone to push to (the stack's provider), so a push is really decided."""
    async with httpx.AsyncClient(base_url=gateway, timeout=30) as client:
        for seller in sellers:
            for _ in range(100):
                response = await client.post(
                    "/notifications/devices",
                    json={"platform": "fcm", "token": f"bench-{seller.id}"},
                    headers=seller.headers,
                )
                if response.status_code != 503:  # no replica in the gateway's rotation yet
                    break
                await asyncio.sleep(0.1)
            if response.status_code not in (200, 201):
                raise BenchError(f"device refused: {response.status_code} {response.text}")


async def push_decision(gateway: str, chats: list[Chat], notifications_database_url: str) -> list[float]:
    """Milliseconds from a message's ack to the push decision of its recipient's notification, one per chat."""
    latencies = []
    database = await asyncpg.connect(notifications_database_url.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        for chat in chats:
            async with connect(
                f"{_ws(gateway)}/chat/ws/{chat.id}?token={chat.buyer.token}", compression=None
            ) as socket:
                await _frame(socket, time.perf_counter() + WITHIN_SECONDS)  # hello
                client_id = str(uuid.uuid4())
                await socket.send(json.dumps({"type": "message", "text": "Ещё продаётся?", "client_id": client_id}))
                deadline = time.perf_counter() + WITHIN_SECONDS
                while True:
                    frame = await _frame(socket, deadline)
                    if frame.get("type") == "ack" and frame.get("client_id") == client_id:
                        break
                    if frame.get("type") == "error":
                        raise BenchError(f"chat refused the probe message: {frame}")
                acked = time.perf_counter()
                key = f"message:{frame['id']}"
                while not await database.fetchval(
                    "SELECT push_status FROM notifications WHERE user_id = $1 AND dedup_key = $2", chat.seller.id, key
                ):
                    if time.perf_counter() - acked > WITHIN_SECONDS:
                        raise BenchError(f"no push decision for {key} within {WITHIN_SECONDS} s")
                    await asyncio.sleep(0.001)
                latencies.append((time.perf_counter() - acked) * 1000)
    finally:
        await database.close()
    return latencies
