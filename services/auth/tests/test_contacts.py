"""Contacts only where they belong: /users/list shows them to the user and to who shares a chat with them."""

import asyncio
import io
import random
import time
from datetime import UTC, datetime
from typing import Any

import aio_pika
import httpx
from fastapi import FastAPI
from PIL import Image
from sqlalchemy import func, select

from auth_service.domain.contacts import mask_phone
from auth_service.models import ChatContact
from service_kit.events.topology import Topology
from service_kit.testing import RABBITMQ_URL, envelope, validate_event

from .conftest import Users

CONTACT_FIELDS = ("email", "whatsapp", "telegram", "viber", "zoom", "licenses", "licenses_url")


def _phone(prefix: str) -> str:
    return f"+7{prefix}{random.randrange(10**7):07d}"


async def _contacts_of(app: FastAPI, user_id: int) -> set[int]:
    async with app.state.container.runtime.database.read_session() as session:
        return set(await session.scalars(select(ChatContact.contact_id).where(ChatContact.user_id == user_id)))


async def _publish_chat_created(app: FastAPI, namespace: str, buyer_id: int, seller_id: int) -> dict[str, Any]:
    """chat.created as the chat service publishes it, until auth's consumer has recorded it."""
    data = {
        "chat_id": random.randrange(1, 10**9),
        "buyer_id": buyer_id,
        "seller_id": seller_id,
        "property_id": random.randrange(1, 10**6),
        "created_at": datetime.now(UTC).isoformat(),
    }
    event = envelope("chat.created", data, "chat")
    validate_event(event.model_dump(mode="json"))
    connection = await aio_pika.connect(RABBITMQ_URL)
    try:
        exchange = await Topology(namespace).declare_exchange(await connection.channel())
        message = aio_pika.Message(body=event.model_dump_json().encode(), content_type="application/json")
        deadline = time.monotonic() + 15
        # Again with the same event id until the consumer has bound its queue; repeats are skipped.
        while seller_id not in await _contacts_of(app, buyer_id):
            assert time.monotonic() < deadline, "chat.created was not handled"
            await exchange.publish(message, routing_key=event.type)
            await asyncio.sleep(0.1)
    finally:
        await connection.close()
    return data


async def _listed(client: httpx.AsyncClient, headers: dict[str, str], ids: set[int]) -> dict[int, dict[str, Any]]:
    """The rows of these users, paging through the list as a client would."""
    found: dict[int, dict[str, Any]] = {}
    for skip in range(0, 100_000, 100):
        page = await client.get("/users/list", params={"skip": skip, "limit": 100}, headers=headers)
        assert page.status_code == 200, page.text
        found |= {row["id"]: row for row in page.json() if row["id"] in ids}
        if len(found) == len(ids) or len(page.json()) < 100:
            return found
    raise AssertionError("users not listed")


def _photo() -> bytes:
    image = io.BytesIO()
    Image.new("RGB", (16, 16), (0, 90, 200)).save(image, format="PNG")
    return image.getvalue()


async def test_contacts_are_masked_until_the_two_share_a_chat(
    client: httpx.AsyncClient, users: Users, app: FastAPI, namespace: str
) -> None:
    buyer_phone, seller_phone, stranger_phone = _phone("919"), _phone("926"), _phone("915")
    buyer = await users.login(buyer_phone, "user")
    seller = await users.login(seller_phone, "realtor")
    stranger = await users.login(stranger_phone, "user")
    profile = {"phone": seller_phone, "email": "seller@example.com", "telegram": "@seller", "whatsapp": "+7 926"}
    updated = await client.put(
        "/users/update", data=profile, files={"licenses": ("l.png", _photo(), "image/png")}, headers=seller
    )
    assert updated.status_code == 200, updated.text
    me = {"buyer": buyer, "seller": seller, "stranger": stranger}
    ids = {name: (await client.get("/users/me", headers=headers)).json()["id"] for name, headers in me.items()}
    everyone = set(ids.values())

    rows = await _listed(client, buyer, everyone)
    seen_seller = rows[ids["seller"]]
    assert seen_seller["phone"] == mask_phone(seller_phone) == f"+7 926 ***-**-{seller_phone[-2:]}"
    assert all(seen_seller[field] is None for field in CONTACT_FIELDS), seen_seller
    # The seed's other fields stay.
    assert (seen_seller["first_name"], seen_seller["role"], seen_seller["role_code"]) == ("Иван", "Риелтор", "realtor")
    assert rows[ids["buyer"]]["phone"] == buyer_phone  # the caller sees their own row whole

    chat = await _publish_chat_created(app, namespace, ids["buyer"], ids["seller"])

    rows = await _listed(client, buyer, everyone)
    seen_seller = rows[ids["seller"]]
    assert (seen_seller["phone"], seen_seller["email"], seen_seller["telegram"]) == (
        seller_phone,
        "seller@example.com",
        "@seller",
    )
    assert seen_seller["licenses"] is not None and seen_seller["licenses"] == seen_seller["licenses_url"]
    assert rows[ids["stranger"]]["phone"] == mask_phone(stranger_phone)
    seen_buyer = (await _listed(client, seller, everyone))[ids["buyer"]]
    assert seen_buyer["phone"] == buyer_phone  # both ways
    seen_by_stranger = (await _listed(client, stranger, everyone))[ids["seller"]]
    assert seen_by_stranger["phone"] == mask_phone(seller_phone) and seen_by_stranger["email"] is None

    # A second chat of the same two, or the same event again, changes nothing.
    await _publish_chat_created(app, namespace, ids["seller"], ids["buyer"])
    assert chat["buyer_id"] == ids["buyer"]
    async with app.state.container.runtime.database.read_session() as session:
        count = await session.scalar(
            select(func.count()).select_from(ChatContact).where(ChatContact.user_id.in_(everyone))
        )
    assert count == 2

    deleted = await client.request("DELETE", "/users/delete", json={"phone": seller_phone}, headers=seller)
    assert deleted.status_code == 200
    assert await _contacts_of(app, ids["buyer"]) == set()
