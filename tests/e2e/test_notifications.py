"""Notifications through the real gateway: matches on both sides' sockets, message pushes, a killed replica.

The local stack pushes to the e2e run's fake FCM (tests/e2e/fake_fcm.py).
"""

import json
import os
import signal
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from websockets.sync.client import ClientConnection, connect

from .conftest import Client
from .fake_fcm import FakeFcm
from .stack import Stack, free_port
from .test_chat import open_socket as open_chat_socket
from .test_chat import token_of, user_id, ws_base
from .test_requests import FITTING_LISTING, SEED_REQUEST, _publish


def notifications_socket(base: str, headers: dict[str, str]) -> tuple[ClientConnection, dict[str, Any]]:
    ws = connect(f"{ws_base(base)}/notifications/ws?token={token_of(headers)}", compression=None, open_timeout=5)
    hello = json.loads(ws.recv(timeout=10))
    assert hello["type"] == "hello", hello
    return ws, hello


def next_notification(ws: ClientConnection, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        frame: dict[str, Any] = json.loads(ws.recv(timeout=max(0.01, deadline - time.monotonic())))
        if frame["type"] == "notification":
            return frame


def until(check: Callable[[], bool], within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, f"timed out: {what}"
        time.sleep(0.05)


def register_device(gateway: httpx.Client, headers: dict[str, str], token: str) -> None:
    response = gateway.post("/notifications/devices", json={"platform": "fcm", "token": token}, headers=headers)
    assert response.status_code == 201, response.text


def test_a_match_reaches_the_buyers_socket_and_phone_and_the_realtors_socket(
    gateway: httpx.Client, gateway_url: str, app_client: Client, phone: str, fake_fcm: FakeFcm
) -> None:
    city = f"Уведомск-{phone[-7:]}"  # a city of this test's own: no other test's request matches here
    buyer = app_client.login(phone, "user")
    realtor = app_client.login(f"+7927{phone[5:]}", "realtor")
    device = f"fcm-buyer-{phone[-7:]}"
    register_device(gateway, buyer, device)
    buyer_ws, _ = notifications_socket(gateway_url, buyer)
    realtor_ws, _ = notifications_socket(gateway_url, realtor)
    request = gateway.post("/users/create_request", json=SEED_REQUEST | {"city": city}, headers=buyer)
    assert request.status_code == 201, request.text

    property_id = _publish(gateway, realtor, city=city, location=f"ул. Тверская, 7, {city}")
    listed_at = time.monotonic()
    match = next_notification(buyer_ws, timeout=5)
    latency = time.monotonic() - listed_at
    assert latency < 1.0, f"the match reached the buyer's socket after {latency:.2f} s"
    assert (match["kind"], match["data"]["property_id"], match["data"]["request_id"]) == (
        "match",
        property_id,
        request.json()["id"],
    )
    assert match["body"].startswith(FITTING_LISTING["title"])
    until(lambda: len(fake_fcm.to(device)) >= 1, 1.0 - (time.monotonic() - listed_at) + 0.5, "the buyer's push")
    offered = next_notification(realtor_ws, timeout=5)
    assert (offered["kind"], offered["data"]["buyer_id"]) == ("match", user_id(gateway, buyer))
    time.sleep(0.5)
    [push] = fake_fcm.to(device)
    assert push["data"]["notification_id"] == str(match["id"])
    # The realtor may now approach the buyer about that listing.
    body = {"buyer_id": user_id(gateway, buyer), "seller_id": user_id(gateway, realtor), "property_id": property_id}
    until(lambda: gateway.post("/chat/create_chat", json=body, headers=realtor).status_code == 201, 10, "chat")
    assert next_notification(buyer_ws, timeout=5)["kind"] == "response"
    inbox = gateway.get("/notifications", headers=buyer).json()
    assert [item["kind"] for item in inbox["items"]] == ["response", "match"]
    for ws in (buyer_ws, realtor_ws):
        ws.close()


def _chat_with_burst(
    gateway: httpx.Client, gateway_url: str, buyer: dict[str, str], realtor: dict[str, str], seller_open: bool
) -> tuple[int, ClientConnection | None]:
    """A new listing of the realtor, a chat the buyer opens about it, and five messages from the buyer.

    With ``seller_open`` the realtor has the chat open on another device meanwhile (the socket is returned).
    The listing is in a city of its own: the other tests' buyer requests must not match it.
    """
    city = f"Чатск-{uuid.uuid4().hex[:8]}"
    listing = _publish(gateway, realtor, city=city, location=f"ул. Тверская, 7, {city}")
    body = {"buyer_id": user_id(gateway, buyer), "seller_id": user_id(gateway, realtor), "property_id": listing}
    deadline = time.monotonic() + 15
    created = gateway.post("/chat/create_chat", json=body, headers=buyer)
    while created.status_code == 404 and time.monotonic() < deadline:  # property.created on its way to chat
        time.sleep(0.2)
        created = gateway.post("/chat/create_chat", json=body, headers=buyer)
    assert created.status_code == 201, created.text
    chat_id: int = created.json()["id"]
    watching = open_chat_socket(gateway_url, chat_id, token_of(realtor))[0] if seller_open else None
    sender, _ = open_chat_socket(gateway_url, chat_id, token_of(buyer))
    for number in range(5):
        sender.send(json.dumps({"type": "message", "text": f"вопрос {number}"}))
    deadline = time.monotonic() + 10
    acked = 0
    while acked < 5:
        frame = json.loads(sender.recv(timeout=max(0.01, deadline - time.monotonic())))
        acked += frame["type"] == "ack"
    sender.close()
    return chat_id, watching


def test_message_pushes_for_a_seller_offline_watching_and_opted_out(
    gateway: httpx.Client, gateway_url: str, app_client: Client, phone: str, fake_fcm: FakeFcm
) -> None:
    buyer = app_client.login(phone, "user")
    realtor = app_client.login(f"+7928{phone[5:]}", "realtor")
    device = f"fcm-seller-{phone[-7:]}"
    register_device(gateway, realtor, device)

    def message_notifications(chat_id: int, count: int) -> list[dict[str, Any]]:
        def arrived() -> list[dict[str, Any]]:
            items = gateway.get("/notifications", params={"kind": "message"}, headers=realtor).json()["items"]
            return [item for item in items if item["data"]["chat_id"] == chat_id]

        until(lambda: len(arrived()) >= count, 10, f"{count} message notifications of chat {chat_id}")
        return arrived()

    def pushes_of(chat_id: int) -> list[dict[str, Any]]:
        return [push for push in fake_fcm.to(device, "message") if push["data"]["chat_id"] == str(chat_id)]

    # Offline: one push for the burst, the others wait in the inbox and the badge.
    offline, _ = _chat_with_burst(gateway, gateway_url, buyer, realtor, seller_open=False)
    assert len(message_notifications(offline, 5)) == 5
    until(lambda: len(pushes_of(offline)) >= 1, 5, "the burst's push")
    time.sleep(1.0)
    assert len(pushes_of(offline)) == 1
    assert gateway.get("/notifications/badge", headers=realtor).json()["messages"] >= 5

    # The chat open on another device: no notification at all (only the badge counts them).
    def unread_messages() -> int:
        count: int = gateway.get("/notifications/badge", headers=realtor).json()["messages"]
        return count

    before = unread_messages()
    watching, laptop = _chat_with_burst(gateway, gateway_url, buyer, realtor, seller_open=True)
    until(lambda: unread_messages() == before + 5, 10, "the five messages counted")
    assert laptop is not None
    laptop.close()
    time.sleep(0.5)
    assert message_notifications(watching, 0) == []
    assert pushes_of(watching) == []

    # Messages switched off: recorded, not pushed.
    changed = gateway.put(
        "/users/update", data={"phone": f"+7928{phone[5:]}", "notifications_all_messages": "false"}, headers=realtor
    )
    assert changed.status_code == 200, changed.text
    opted_out, _ = _chat_with_burst(gateway, gateway_url, buyer, realtor, seller_open=False)
    recorded = message_notifications(opted_out, 5)
    assert {(item["alert"], item["push_status"]) for item in recorded} == {(False, "off")}
    time.sleep(1.0)
    assert pushes_of(opted_out) == []


@pytest.mark.local_stack
def test_a_killed_replica_makes_no_second_notification(
    stack: Stack, gateway: httpx.Client, app_client: Client, phone: str
) -> None:
    """A third notifications replica consumes too, and is killed (SIGKILL) while the matches stream in."""
    city = f"Убитск-{phone[-7:]}"
    buyer = app_client.login(phone, "user")
    realtor = app_client.login(f"+7929{phone[5:]}", "realtor")
    assert gateway.post("/users/create_request", json=SEED_REQUEST | {"city": city}, headers=buyer).status_code == 201
    variant = stack.variant(NOTIFICATIONS_A_PORT=str(free_port()))
    doomed = variant.start("notifications_a", wait_for=(variant.service_url("NOTIFICATIONS_A_PORT", "/ready"),))
    listings = []
    for number in range(12):
        if number == 4:
            os.killpg(doomed.pid, signal.SIGKILL)  # no goodbye: what it had not acknowledged comes again
            doomed.wait()
        listings.append(_publish(gateway, realtor, city=city, location=f"ул. Тверская, {number}, {city}"))

    def matches() -> list[dict[str, Any]]:
        page = gateway.get("/notifications", params={"kind": "match", "limit": 100}, headers=buyer).json()
        return list(page["items"])

    until(lambda: len(matches()) >= len(listings), 20, "every match notified")
    time.sleep(1.0)
    found = matches()
    assert sorted(item["data"]["property_id"] for item in found) == sorted(listings), "each once, none lost"
    assert sorted(item["seq"] for item in found) == list(range(1, len(listings) + 1))
