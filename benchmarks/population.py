"""The people of a run, made through the public API as an app would: users with tokens,
the realtors' listings and the buyers' chats."""

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

import httpx

from benchmarks.system import BenchError

T = TypeVar("T")


@dataclass(frozen=True)
class User:
    id: int
    phone: str
    token: str
    role: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def _ok(response: httpx.Response, expected: int = 200) -> Any:
    if response.status_code != expected:
        raise BenchError(
            f"{response.request.method} {response.request.url.path}: {response.status_code} {response.text}"
        )
    return response.json()


async def bounded(calls: list[Callable[[], Awaitable[T]]], concurrency: int = 16) -> list[T]:
    gate = asyncio.Semaphore(concurrency)

    async def one(call: Callable[[], Awaitable[T]]) -> T:
        async with gate:
            return await call()

    return await asyncio.gather(*(one(call) for call in calls))


async def register(client: httpx.AsyncClient, phone: str, role: str) -> User:
    body = {"phone": phone, "first_name": "Бенч", "last_name": "Маркин", "role": role}
    code = _ok(await client.post("/users/register", json=body), 201)["code"]
    token = _ok(await client.post("/users/token", json={"phone": phone, "activation_code": code}))["access_token"]
    me = _ok(await client.get("/users/me", headers={"Authorization": f"Bearer {token}"}))
    return User(id=int(me["id"]), phone=phone, token=str(token), role=role)


async def register_many(client: httpx.AsyncClient, count: int, role: str) -> list[User]:
    """``count`` new users with phones of their own (a random block of +7 916 numbers)."""
    start = random.randrange(10**7 - count)
    phones = [f"+7916{start + index:07d}" for index in range(count)]
    return await bounded([partial(register, client, phone, role) for phone in phones])


# A listing as a realtor's app posts it (multipart form, seed #9 fields); canonical codes or Russian phrases.
LISTING_FORM = {
    "deal_format": "sale",
    "type": "apartment",
    "subtype": "flat",
    "condition": "resale",
    "location": "ул. Тверская, 7, Москва",
    "city": "Москва",
    "district": "Тверской",
    "currency": "RUB",
    "title": "Двухкомнатная квартира",
    "description": "Светлая квартира рядом с метро.",
    "floor": "5",
    "building_floors": "12",
    "total_area": "60",
    "living_area": "40",
    "rooms": "2",
}


async def create_listing(client: httpx.AsyncClient, realtor: User, price_rub: int) -> int:
    form = LISTING_FORM | {"price": str(price_rub)}
    created = _ok(await client.post("/properties/create", data=form, headers=realtor.headers), 201)
    return int(created["id"])


async def create_chat(client: httpx.AsyncClient, buyer: User, seller: User, property_id: int) -> int:
    """The buyer opens a chat about the seller's listing.

    Retried while property.created is on its way (404) and while the gateway has not yet
    seen a chat replica pass its health check (503).
    """
    body = {"buyer_id": buyer.id, "seller_id": seller.id, "property_id": property_id}
    for _ in range(150):
        response = await client.post("/chat/create_chat", json=body, headers=buyer.headers)
        if response.status_code not in (404, 503):
            return int(_ok(response, 201)["id"])
        await asyncio.sleep(0.1)
    raise BenchError(f"chat service never learnt of property {property_id}: {response.text}")


@dataclass(frozen=True)
class Chat:
    id: int
    buyer: User
    seller: User


@dataclass(frozen=True)
class Population:
    realtors: list[User]
    buyers: list[User]
    probe_buyer: User
    chats: list[Chat]


async def populate(gateway: str, realtors: int, buyers: int, chats: int) -> Population:
    """Realtors with one listing each; ``chats`` buyers each in a chat with a realtor (round robin)."""
    async with httpx.AsyncClient(base_url=gateway, timeout=30) as client:
        sellers = await register_many(client, realtors, "realtor")
        people = await register_many(client, buyers + 1, "user")
        probe_buyer, buyer_pool = people[0], people[1:]
        listings = await bounded([partial(create_listing, client, seller, 12_000_000) for seller in sellers])
        pairs = [
            (buyer_pool[index], sellers[index % len(sellers)], listings[index % len(sellers)]) for index in range(chats)
        ]
        chat_ids = await bounded([partial(create_chat, client, *pair) for pair in pairs])
    return Population(
        realtors=sellers,
        buyers=buyer_pool,
        probe_buyer=probe_buyer,
        chats=[Chat(chat_id, buyer, seller) for chat_id, (buyer, seller, _) in zip(chat_ids, pairs, strict=True)],
    )
