"""The events listings consumes: owner profiles, and archiving a deleted owner's listings once."""

import asyncio
import time
from typing import Any, cast

import aio_pika
import httpx
from aio_pika.abc import AbstractIncomingMessage
from fastapi import FastAPI
from sqlalchemy import select, update

from listings_service.models import Owner, Property, outbox, processed_events
from service_kit.events.envelope import EventEnvelope
from service_kit.events.topology import Topology, subscriptions
from service_kit.testing import RABBITMQ_URL, TokenFactory, envelope, validate_event

from .conftest import SEED_FIELDS


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


async def deliver(app: FastAPI, event: EventEnvelope) -> None:
    delivery = Delivery(event)
    await app.state.container.runtime.consumer.handle(cast(AbstractIncomingMessage, delivery))
    assert delivery.outcome == "ack"


async def publish_to_rabbitmq(namespace: str, event: EventEnvelope) -> None:
    """Declares the service's bound queue first, as the set-up step does: nothing published is lost."""
    connection = await aio_pika.connect(RABBITMQ_URL)
    async with connection:
        channel = await connection.channel()
        topology = Topology(namespace)
        await topology.declare_service_queue(channel, "listings", subscriptions()["listings"])
        exchange = await topology.declare_exchange(channel)
        message = aio_pika.Message(event.model_dump_json().encode(), delivery_mode=aio_pika.DeliveryMode.PERSISTENT)
        await exchange.publish(message, routing_key=event.type)


async def wait_processed(app: FastAPI, event: EventEnvelope, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        async with app.state.container.runtime.database.sessions() as session:
            if await session.scalar(
                select(processed_events.c.event_id).where(processed_events.c.event_id == event.event_id)
            ):
                return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{event.type} was not consumed within {timeout} s")


async def updated_events(app: FastAPI, property_ids: set[int]) -> list[dict[str, Any]]:
    async with app.state.container.runtime.database.sessions() as session:
        rows = (await session.scalars(select(outbox.c.envelope).order_by(outbox.c.id))).all()
    return [row for row in rows if row["type"] == "property.updated" and row["data"]["property_id"] in property_ids]


async def test_a_deleted_owners_listings_are_archived_once(
    client: httpx.AsyncClient, tokens: TokenFactory, app: FastAPI, namespace: str
) -> None:
    owner = 801
    headers = tokens.headers(owner, "realtor")
    created = [
        (await client.post("/properties/create", data=SEED_FIELDS, headers=headers)).json()["id"] for _ in range(2)
    ]
    sold = created[1]
    await client.patch(f"/properties/{sold}", data={"status": "sold"}, headers=headers)
    bystander = await client.post("/properties/create", data=SEED_FIELDS, headers=tokens.headers(802, "realtor"))
    edits_before = len(await updated_events(app, set(created)))

    deleted = envelope("user.deleted", {"user_id": owner}, producer="auth")
    await publish_to_rabbitmq(namespace, deleted)
    await wait_processed(app, deleted)
    await deliver(app, deleted)  # the same event again
    await deliver(app, envelope("user.deleted", {"user_id": owner}, producer="auth"))  # a second event

    for property_id in created:
        card = await client.get(f"/properties/{property_id}")
        assert card.status_code == 404  # archived listings leave the public site
    mine = await client.get("/properties/my_properties", headers=tokens.headers(owner, "realtor"))
    assert mine.status_code == 401  # the owner's tokens are refused here too
    events = (await updated_events(app, set(created)))[edits_before:]
    assert sorted(event["data"]["property_id"] for event in events) == sorted(created)
    for event in events:
        validate_event(event)
        assert event["data"]["status"] == "archived"
    assert (await client.get(f"/properties/{bystander.json()['id']}")).json()["status"] == "active"


async def test_owner_profiles_follow_user_events(client: httpx.AsyncClient, tokens: TokenFactory, app: FastAPI) -> None:
    owner = 901
    profile = {
        "user_id": owner,
        "phone": "+79250000901",
        "first_name": "Иван",
        "last_name": "Иванов",
        "role": "realtor",
        "is_active": True,
    }
    registered = envelope("user.registered", profile, producer="auth")
    renamed = envelope("user.updated", profile | {"first_name": "Пётр"}, producer="auth")
    validate_event(registered.model_dump(mode="json"))
    await deliver(app, renamed)
    await deliver(app, registered)  # late and older: must not undo the rename

    created = await client.post("/properties/create", data=SEED_FIELDS, headers=tokens.headers(owner, "realtor"))
    card = (await client.get(f"/properties/{created.json()['id']}", headers=tokens.headers(1, "user"))).json()
    assert card["owner"]["first_name"] == "Пётр"
    contact = await client.post(f"/properties/{created.json()['id']}/contact", headers=tokens.headers(1, "user"))
    assert contact.json()["phone"] == "+79250000901"

    await deliver(app, envelope("user.deleted", {"user_id": owner}, producer="auth"))
    assert (await client.get(f"/properties/{created.json()['id']}")).status_code == 404


async def test_a_deleted_owner_stays_deleted_whatever_arrives_late(
    client: httpx.AsyncClient, tokens: TokenFactory, app: FastAPI
) -> None:
    owner = 902
    profile = {
        "user_id": owner,
        "phone": "+79250000902",
        "first_name": "Ольга",
        "last_name": "Смирнова",
        "role": "agency",
        "is_active": True,
    }
    await deliver(app, envelope("user.registered", profile, producer="auth"))
    created = await client.post("/properties/create", data=SEED_FIELDS, headers=tokens.headers(owner, "agency"))
    await deliver(app, envelope("user.deleted", {"user_id": owner}, producer="auth"))
    # Sent before the deletion but delivered after it, with a later timestamp than the profile.
    await deliver(app, envelope("user.updated", profile | {"first_name": "Оля"}, producer="auth"))
    await deliver(app, envelope("user.registered", profile, producer="auth"))

    async with app.state.container.runtime.database.sessions() as session:
        tombstone = await session.get(Owner, owner)
    assert tombstone is not None and tombstone.deleted_at is not None
    assert (tombstone.first_name, tombstone.last_name, tombstone.phone) == (None, None, None)

    # A listing the owner still has shows no name or phone (here: reopened by hand in the database).
    async with app.state.container.runtime.database.sessions() as session, session.begin():
        await session.execute(update(Property).where(Property.id == created.json()["id"]).values(status="active"))
    card = (await client.get(f"/properties/{created.json()['id']}", headers=tokens.headers(1, "user"))).json()
    assert card["owner"] == {"id": owner, "first_name": None, "last_name": None, "role": None}

    # Deleted before auth's profile ever arrived: the profile stays out as well.
    unseen = 903
    await deliver(app, envelope("user.deleted", {"user_id": unseen}, producer="auth"))
    await deliver(app, envelope("user.registered", profile | {"user_id": unseen}, producer="auth"))
    async with app.state.container.runtime.database.sessions() as session:
        ghost = await session.get(Owner, unseen)
    assert ghost is not None and ghost.deleted_at is not None and ghost.phone is None
