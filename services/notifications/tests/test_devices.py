"""Push devices through the API: idempotent registration, one owner per install, removal, bad input."""

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from notifications_service.models import PushDelivery
from notifications_service.push_worker import PushWorker
from service_kit.testing import TokenFactory

from .conftest import Events, new_id


async def test_registering_a_token_twice_is_one_device(client: httpx.AsyncClient, tokens: TokenFactory) -> None:
    user = new_id()
    headers = tokens.headers(user, "user")
    first = await client.post("/notifications/devices", json={"platform": "fcm", "token": "tok-1"}, headers=headers)
    again = await client.post("/notifications/devices/", json={"platform": "fcm", "token": " tok-1 "}, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert first.json().keys() == {"id", "platform", "registered_at"}, "tokens are never shown"
    # The same token string of another platform is another device.
    rustore = await client.post(
        "/notifications/devices", json={"platform": "rustore", "token": "tok-1"}, headers=headers
    )
    assert rustore.status_code == 201
    listed = (await client.get("/notifications/devices", headers=headers)).json()
    assert [device["id"] for device in listed] == [rustore.json()["id"], first.json()["id"]]


async def test_a_token_moves_to_whoever_signs_in_on_that_install(
    client: httpx.AsyncClient, tokens: TokenFactory, app: FastAPI, events: Events, held_pushes: PushWorker
) -> None:
    first_owner, second_owner, seller = await events.user(), new_id(), await events.user()
    body = {"platform": "fcm", "token": f"shared-{first_owner}"}
    moved = (await client.post("/notifications/devices", json=body, headers=tokens.headers(first_owner, "user"))).json()
    await events.match(first_owner, seller)  # a push waits for the first owner on that device
    taken = await client.post("/notifications/devices", json=body, headers=tokens.headers(second_owner, "user"))
    assert (taken.status_code, taken.json()["id"]) == (200, moved["id"])
    assert (await client.get("/notifications/devices", headers=tokens.headers(first_owner, "user"))).json() == []
    async with app.state.container.runtime.database.sessions() as session:
        waiting = (await session.scalars(select(PushDelivery).where(PushDelivery.device_id == moved["id"]))).all()
    assert waiting == [], "the first owner's pushes never reach the next person on that phone"
    assert await held_pushes.send_due() == 0


async def test_removing_a_device_is_for_its_owner_only(client: httpx.AsyncClient, tokens: TokenFactory) -> None:
    owner, stranger = new_id(), new_id()
    created = await client.post(
        "/notifications/devices", json={"platform": "webpush", "token": "sub-1"}, headers=tokens.headers(owner, "user")
    )
    path = f"/notifications/devices/{created.json()['id']}"
    assert (await client.delete(path, headers=tokens.headers(stranger, "user"))).status_code == 404
    assert (await client.delete(path)).status_code == 401
    assert (await client.delete(path, headers=tokens.headers(owner, "user"))).status_code == 204
    assert (await client.delete(path, headers=tokens.headers(owner, "user"))).status_code == 404
    assert (await client.delete("/notifications/devices/0", headers=tokens.headers(owner, "user"))).status_code == 422


@pytest.mark.parametrize("overrides", [{"max_devices_per_user": 3}])
async def test_the_oldest_devices_go_beyond_the_cap(client: httpx.AsyncClient, tokens: TokenFactory) -> None:
    headers = tokens.headers(new_id(), "user")
    ids = [
        (
            await client.post("/notifications/devices", json={"platform": "fcm", "token": f"t-{n}"}, headers=headers)
        ).json()["id"]
        for n in range(5)
    ]
    listed = [device["id"] for device in (await client.get("/notifications/devices", headers=headers)).json()]
    assert listed == ids[:1:-1]


@pytest.mark.parametrize(
    "body",
    [
        {"platform": "sms", "token": "x"},
        {"platform": "fcm", "token": ""},
        {"platform": "fcm", "token": "   "},
        {"platform": "fcm", "token": "a\u0000b"},
        {"platform": "fcm", "token": "x" * 4097},
        {"platform": "fcm"},
        {"token": "x"},
    ],
)
async def test_bad_devices_are_a_422(client: httpx.AsyncClient, tokens: TokenFactory, body: dict[str, str]) -> None:
    response = await client.post("/notifications/devices", json=body, headers=tokens.headers(new_id(), "user"))
    assert response.status_code == 422, response.text


async def test_devices_need_a_token(client: httpx.AsyncClient) -> None:
    assert (await client.post("/notifications/devices", json={"platform": "fcm", "token": "x"})).status_code == 401
    assert (await client.get("/notifications/devices")).status_code == 401
