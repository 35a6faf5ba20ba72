"""At most one notification per user, thing and channel: across redeliveries, replicas and restarts."""

import asyncio
import time
from typing import cast

import aio_pika
import httpx
from aio_pika.abc import AbstractIncomingMessage
from fastapi import FastAPI
from sqlalchemy import func, select

from notifications_service.models import Notification, PushDelivery, processed_events
from service_kit.events.envelope import EventEnvelope
from service_kit.events.topology import Topology, subscriptions
from service_kit.testing import RABBITMQ_URL, TokenFactory, envelope

from .conftest import Events, Replicas, inbox_of, new_id, now, profile, pushes_settled, register_device
from .fake_push import FakePush


class Delivery:
    """A message as RabbitMQ hands it to the consumer, to redeliver one deterministically."""

    def __init__(self, event: EventEnvelope) -> None:
        self.body = event.model_dump_json().encode()
        self.message_id = str(event.event_id)
        self.outcome = ""

    async def ack(self) -> None:
        self.outcome = "ack"

    async def nack(self, requeue: bool = True) -> None:
        self.outcome = "nack"

    async def reject(self, requeue: bool = False) -> None:
        self.outcome = "reject"


async def publish_all(namespace: str, batch: list[EventEnvelope]) -> None:
    connection = await aio_pika.connect(RABBITMQ_URL)
    async with connection:
        channel = await connection.channel()
        topology = Topology(namespace)
        await topology.declare_service_queue(channel, "notifications", subscriptions()["notifications"])
        exchange = await topology.declare_exchange(channel)
        for event in batch:
            message = aio_pika.Message(event.model_dump_json().encode(), delivery_mode=aio_pika.DeliveryMode.PERSISTENT)
            await exchange.publish(message, routing_key=event.type)


async def queue_drained(namespace: str, within: float = 20.0) -> None:
    """Until the service's queue holds nothing ready or unacknowledged (every delivery settled)."""
    connection = await aio_pika.connect(RABBITMQ_URL)
    async with connection:
        channel = await connection.channel()
        deadline = time.monotonic() + within
        while True:
            declared = await channel.declare_queue(Topology(namespace).queue("notifications"), passive=True)
            if declared.declaration_result.message_count == 0:
                break
            assert time.monotonic() < deadline, "the queue did not drain"
            await asyncio.sleep(0.05)
    await asyncio.sleep(0.5)  # deliveries prefetched before the count reached 0 settle


async def counts(app: FastAPI, user_id: int) -> tuple[int, int]:
    async with app.state.container.runtime.database.sessions() as session:
        notifications = await session.scalar(select(func.count()).where(Notification.user_id == user_id))
        pushes = await session.scalar(select(func.count()).where(PushDelivery.user_id == user_id))
    return int(notifications or 0), int(pushes or 0)


async def test_replaying_every_consumed_event_notifies_nobody_twice(
    client: httpx.AsyncClient, tokens: TokenFactory, app: FastAPI, events: Events, push: FakePush
) -> None:
    buyer, seller = await events.user(), await events.user()
    for user in (buyer, seller):
        await register_device(client, tokens, user, f"device-{user}")
    await events.match(buyer, seller)
    chat = await events.chat(buyer, seller)
    for seq in (1, 2, 3):
        await events.message(chat, seq, buyer, seller)
    await events.message(chat, 4, seller, buyer)
    await events.read(chat, seller, 2)
    await events.reveal(seller, buyer)
    await pushes_settled(push, f"device-{seller}", 4)  # match, response, the chat's first message, contact
    await pushes_settled(push, f"device-{buyer}", 2)  # match, the seller's message
    before = (await counts(app, buyer), await counts(app, seller))
    badge = (await client.get("/notifications/badge", headers=tokens.headers(seller, "realtor"))).json()

    # Every event again, as a redelivery would bring it: each is acknowledged, and changes nothing.
    for event in list(events.sent):
        delivery = Delivery(event)
        await app.state.container.runtime.consumer.handle(cast(AbstractIncomingMessage, delivery))
        assert delivery.outcome == "ack", event.type
    assert (await counts(app, buyer), await counts(app, seller)) == before
    await pushes_settled(push, f"device-{seller}", 4)
    await pushes_settled(push, f"device-{buyer}", 2)
    assert (await client.get("/notifications/badge", headers=tokens.headers(seller, "realtor"))).json() == badge


async def test_a_replica_killed_mid_stream_loses_nothing_and_repeats_nothing(
    replicas: Replicas, events: Events, namespace: str
) -> None:
    buyer, seller = await events.user(), await events.user()
    first = await replicas()
    matches = [
        envelope(
            "request.matched",
            {
                "request_id": new_id(),
                "buyer_id": buyer,
                "property_id": new_id(),
                "seller_id": seller,
                "matched_at": now(),
            },
            "requests",
        )
        for _ in range(60)
    ]
    await publish_all(namespace, matches)

    async def handled() -> int:
        async with first.container.runtime.database.sessions() as session:
            found = await session.scalar(
                select(func.count()).where(processed_events.c.event_id.in_([event.event_id for event in matches]))
            )
        return int(found or 0)

    deadline = time.monotonic() + 10
    while await handled() < 3:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.005)
    # The replica dies: its connection to RabbitMQ goes, and what it had not acked is delivered again.
    consumer = first.container.runtime.consumer
    assert consumer is not None
    await consumer.stop()
    second = await replicas()
    deadline = time.monotonic() + 20
    while await handled() < len(matches):
        assert time.monotonic() < deadline, f"{await handled()} of {len(matches)} matches handled"
        await asyncio.sleep(0.05)
    await queue_drained(namespace)

    for user_id in (buyer, seller):
        inbox = await inbox_of(second.app, user_id)
        assert len(inbox) == 60, f"user {user_id} has {len(inbox)} notifications of 60 matches"
        assert sorted(entry.seq for entry in inbox) == list(range(1, 61)), "one sequence each, no gaps"
        assert len({entry.dedup_key for entry in inbox}) == 60


async def test_one_event_handled_by_two_replicas_at_once_notifies_once(
    replicas: Replicas, events: Events, tokens: TokenFactory, push: FakePush
) -> None:
    a, b = await replicas(), await replicas()
    buyer, seller = await events.user(), await events.user()
    async with httpx.AsyncClient(base_url=a.http) as http:
        await http.post(
            "/notifications/devices",
            json={"platform": "fcm", "token": f"twice-{buyer}"},
            headers=tokens.headers(buyer, "user"),
        )
    match = envelope(
        "request.matched",
        {"request_id": new_id(), "buyer_id": buyer, "property_id": new_id(), "seller_id": seller, "matched_at": now()},
        "requests",
    )
    deliveries = [Delivery(match), Delivery(match)]
    await asyncio.gather(
        *(
            replica.container.runtime.consumer.handle(cast(AbstractIncomingMessage, delivery))  # type: ignore[union-attr]
            for replica, delivery in zip((a, b), deliveries, strict=True)
        )
    )
    assert [delivery.outcome for delivery in deliveries] == ["ack", "ack"]
    assert len(await inbox_of(a.app, buyer)) == 1
    await pushes_settled(push, f"twice-{buyer}", 1)


async def test_another_event_of_the_same_match_or_chat_is_not_a_second_notification(
    app: FastAPI, events: Events
) -> None:
    buyer, seller = await events.user(), await events.user()
    request_id, property_id = new_id(), new_id()
    # A match that stopped holding and holds again is announced again: the user heard of it already.
    await events.match(buyer, seller, request_id, property_id)
    await events.match(buyer, seller, request_id, property_id)
    assert [entry.kind for entry in await inbox_of(app, buyer)] == ["match"]
    assert [entry.kind for entry in await inbox_of(app, seller)] == ["match"]
    # A profile event older than the one applied is ignored, and so are events of unknown types.
    await events.send("user.updated", profile(buyer, "Новое"), "auth")
    stale = envelope("user.updated", profile(buyer, "Старое"), "auth")
    stale = stale.model_copy(update={"occurred_at": stale.occurred_at.replace(year=2020)})
    await events.publish(stale)
    chat = await events.chat(buyer, seller, opened_by=buyer)
    [response] = [entry for entry in await inbox_of(app, seller) if entry.kind == "response"]
    assert response.data["chat_id"] == chat
    assert response.body.startswith("Новое Иванов")
