"""Seed endpoints 13-16 through the gateway, with the two chat replicas of the local stack."""

import json
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from .conftest import Client
from .stack import Stack, free_port


def ws_base(http_base: str) -> str:
    return http_base.replace("http://", "ws://", 1)


def user_id(gateway: httpx.Client, headers: dict[str, str]) -> int:
    me: int = gateway.get("/users/me", headers=headers).json()["id"]
    return me


def token_of(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


def receive(ws: ClientConnection, timeout: float = 10.0) -> dict[str, Any]:
    frame: dict[str, Any] = json.loads(ws.recv(timeout=timeout))
    return frame


def open_socket(base: str, chat_id: int, token: str, after: int | None = None) -> tuple[ClientConnection, str]:
    """Connects (retrying while the gateway still routes to a replica that went away); returns the replica name."""
    url = f"{ws_base(base)}/chat/ws/{chat_id}?token={token}" + (f"&after={after}" if after is not None else "")
    deadline = time.monotonic() + 20
    while True:
        try:
            ws = connect(url, compression=None, open_timeout=5)
            hello = receive(ws)
            assert hello["type"] == "hello", hello
            return ws, str(hello["replica"])
        except (OSError, InvalidHandshake, ConnectionClosed, TimeoutError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def chat_about_a_listing(
    gateway: httpx.Client, app_client: Client, phone: str
) -> tuple[int, dict[str, str], dict[str, str]]:
    realtor = app_client.login(phone, "realtor")
    buyer = app_client.login(f"+7917{phone[5:]}", "user")
    return open_chat(gateway, buyer, realtor), buyer, realtor


def open_chat(gateway: httpx.Client, buyer: dict[str, str], realtor: dict[str, str]) -> int:
    """The realtor lists a flat, the buyer opens a chat about it; the chat's id."""
    form = {"deal_format": "sale", "type": "квартира", "location": "ул. Ленина 1, Казань", "price": "9000000"}
    listing = gateway.post("/properties/create", data=form | {"currency": "RUB", "title": "Двушка"}, headers=realtor)
    assert listing.status_code == 201, listing.text
    body = {
        "buyer_id": user_id(gateway, buyer),
        "seller_id": user_id(gateway, realtor),
        "property_id": listing.json()["id"],
    }
    deadline = time.monotonic() + 15
    created = gateway.post("/chat/create_chat", json=body, headers=buyer)
    while created.status_code == 404 and time.monotonic() < deadline:  # property.created still on its way
        time.sleep(0.2)
        created = gateway.post("/chat/create_chat", json=body, headers=buyer)
    assert created.status_code == 201, created.text
    assert gateway.post("/chat/create_chat", json=body, headers=realtor).json()["id"] == created.json()["id"]
    chat_id: int = created.json()["id"]
    return chat_id


class Peer:
    """One participant: sends with client ids, remembers every sequence it was sent, reconnects with after=."""

    def __init__(self, base: str, chat_id: int, headers: dict[str, str]) -> None:
        self.base, self.chat_id, self.token = base, chat_id, token_of(headers)
        self.seqs: list[int] = []
        self.texts: dict[int, str] = {}
        self.ws, self.replica = open_socket(base, chat_id, self.token)

    def reconnect(self) -> None:
        self.ws.close()
        self.ws, self.replica = open_socket(self.base, self.chat_id, self.token, after=max(self.seqs, default=0))

    def _record(self, frame: dict[str, Any]) -> None:
        if frame["type"] == "message":
            assert frame["seq"] not in self.texts, f"duplicate {frame}"
            self.seqs.append(frame["seq"])
            self.texts[frame["seq"]] = frame["content"]

    def send(self, text: str) -> int:
        """Sends until acknowledged, resending with the same client id across reconnects; returns the seq."""
        client_id = str(uuid.uuid4())
        while True:
            try:
                self.ws.send(json.dumps({"type": "message", "content": text, "client_id": client_id}))
                while True:
                    frame = receive(self.ws)
                    if frame["type"] == "ack" and frame["client_id"] == client_id:
                        seq: int = frame["seq"]
                        return seq
                    self._record(frame)
            except (ConnectionClosed, TimeoutError):
                self.reconnect()

    def wait_for(self, seq: int) -> None:
        while seq not in self.texts:
            try:
                self._record(receive(self.ws))
            except (ConnectionClosed, TimeoutError):
                self.reconnect()


@contextmanager
def peers(base: str, chat_id: int, buyer: dict[str, str], seller: dict[str, str]) -> Iterator[tuple[Peer, Peer]]:
    """Both sides connected through the gateway, forced onto different replicas."""
    first = Peer(base, chat_id, buyer)
    second = Peer(base, chat_id, seller)
    for _ in range(20):
        if second.replica != first.replica:
            break
        second.ws.close()
        second = Peer(base, chat_id, seller)
    assert second.replica != first.replica, "the gateway did not spread sockets over both replicas"
    try:
        yield first, second
    finally:
        first.ws.close()
        second.ws.close()


def test_chat_through_the_gateway_on_two_replicas(gateway: httpx.Client, app_client: Client, phone: str) -> None:
    chat_id, buyer, realtor = chat_about_a_listing(gateway, app_client, phone)
    with peers(str(gateway.base_url), chat_id, buyer, realtor) as (b, s):
        sent = []
        for number in range(3):
            sent.append((b.send(f"покупатель {number}"), f"покупатель {number}"))
            sent.append((s.send(f"риелтор {number}"), f"риелтор {number}"))
        last = max(seq for seq, _ in sent)
        b.wait_for(last)
        s.wait_for(last)
        assert [seq for seq, _ in sent] == list(range(1, 7))
        assert b.seqs == s.seqs == list(range(1, 7))  # everyone's own messages echo back too
        assert b.texts == s.texts == dict(sent)

        # As the original server's clients read it: an array of {id, chat_id, sender_id, content, created_at}.
        history = gateway.get(f"/chat/chat_messages/{chat_id}", headers=realtor)
        assert [(m["seq"], m["content"]) for m in history.json()] == sent
        assert {m["chat_id"] for m in history.json()} == {chat_id}
        assert (history.headers["x-last-seq"], history.headers["x-read-seq"]) == ("6", "0")
        assert "link" not in history.headers  # one page holds it all

        summary = gateway.get("/chat/my_chats", headers=realtor).json()[0]
        assert summary["id"] == chat_id and summary["last_message"]["preview"] == "риелтор 2"
        assert summary["unread_count"] == 3
        assert summary["other_user"]["display_name"] == "Иван Иванов"
        s.ws.send(json.dumps({"type": "read", "seq": last}))
        receipt = receive(b.ws)
        assert (receipt["type"], receipt["seq"]) == ("read", last)
        deadline = time.monotonic() + 5
        while gateway.get("/chat/my_chats", headers=realtor).json()[0]["unread_count"] != 0:
            assert time.monotonic() < deadline
            time.sleep(0.1)


def test_strangers_and_bad_tokens_are_kept_out(gateway: httpx.Client, app_client: Client, phone: str) -> None:
    chat_id, buyer, realtor = chat_about_a_listing(gateway, app_client, phone)
    stranger = app_client.login(f"+7918{phone[5:]}", "user")
    body = {"buyer_id": user_id(gateway, buyer), "seller_id": user_id(gateway, realtor), "property_id": 1}
    assert gateway.post("/chat/create_chat", json=body, headers=stranger).status_code == 403
    assert gateway.get(f"/chat/chat_messages/{chat_id}", headers=stranger).status_code == 403

    base = ws_base(str(gateway.base_url))
    with (
        connect(f"{base}/chat/ws/{chat_id}?token={token_of(stranger)}") as ws,
        pytest.raises(ConnectionClosed) as closed,
    ):
        while True:
            ws.recv(timeout=10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4003
    for url in (f"{base}/chat/ws/{chat_id}", f"{base}/chat/ws/{chat_id}?token=forged.token.here"):
        with pytest.raises(InvalidStatus) as refused:  # the gateway refuses before any upgrade
            connect(url)
        assert refused.value.response.status_code == 401


@pytest.mark.local_stack
def test_killing_a_replica_loses_and_duplicates_nothing(
    stack: Stack, gateway: httpx.Client, app_client: Client, phone: str
) -> None:
    """A gateway and two replicas of their own, each in its own honcho, so one can be killed alone."""
    chat_id, buyer, realtor = chat_about_a_listing(gateway, app_client, phone)
    ports = {name: str(free_port()) for name in ("GATEWAY_PORT", "GATEWAY_ADMIN_PORT", "CHAT_A_PORT", "CHAT_B_PORT")}
    variant = stack.variant(
        **ports, CHAT_URLS=f"http://127.0.0.1:{ports['CHAT_A_PORT']},http://127.0.0.1:{ports['CHAT_B_PORT']}"
    )
    replica_a = variant.start("chat_a", wait_for=(variant.service_url("CHAT_A_PORT", "/ready"),))
    variant.start("chat_b", wait_for=(variant.service_url("CHAT_B_PORT", "/ready"),))
    variant.start("gateway", wait_for=(variant.service_url("GATEWAY_ADMIN_PORT", "/ping"),))
    _, name_a = open_socket(variant.service_url("CHAT_A_PORT", ""), chat_id, token_of(buyer))

    with peers(variant.gateway, chat_id, buyer, realtor) as (b, s):
        texts: dict[int, str] = {}
        for number in range(30):
            if number == 10:
                variant.stop(replica_a)  # whoever was on A reconnects through the gateway with after=
            sender = b if number % 2 else s
            texts[sender.send(f"сообщение {number}")] = f"сообщение {number}"
        last = max(texts)
        b.wait_for(last)
        s.wait_for(last)
        assert sorted(texts) == list(range(1, 31))
        assert sorted(b.seqs) == sorted(s.seqs) == list(range(1, 31))  # none lost, none twice
        assert b.texts == s.texts == texts
        assert name_a not in (b.replica, s.replica)
    history = gateway.get(f"/chat/chat_messages/{chat_id}", headers=buyer).json()
    assert [m["content"] for m in history] == [texts[seq] for seq in range(1, 31)]
    # Paged back through the gateway by the Link headers, newest page first.
    pages, url = [], f"/chat/chat_messages/{chat_id}?limit=12"
    while url:
        page = gateway.get(url, headers=buyer)
        pages.insert(0, [m["seq"] for m in page.json()])
        url = page.links.get("prev", {}).get("url", "")
    assert pages == [list(range(1, 7)), list(range(7, 19)), list(range(19, 31))]


def listed_row(gateway: httpx.Client, headers: dict[str, str], wanted: int) -> dict[str, Any]:
    """The row of user ``wanted`` in /users/list, paging as a client would."""
    for skip in range(0, 100_000, 100):
        page = gateway.get("/users/list", params={"skip": skip, "limit": 100}, headers=headers)
        assert page.status_code == 200, page.text
        rows = {row["id"]: row for row in page.json()}
        if wanted in rows:
            return rows[wanted]
        assert len(rows) == 100, f"user {wanted} not listed"
    raise AssertionError("unreachable")


def test_contacts_are_masked_until_the_two_share_a_chat(gateway: httpx.Client, app_client: Client, phone: str) -> None:
    realtor_phone = phone
    realtor = app_client.login(realtor_phone, "realtor")
    buyer = app_client.login(f"+7919{phone[5:]}", "user")
    profile = {"phone": realtor_phone, "telegram": "@realtor", "email": "realtor@example.com"}
    assert gateway.put("/users/update", data=profile, headers=realtor).status_code == 200
    realtor_id = user_id(gateway, realtor)

    before = listed_row(gateway, buyer, realtor_id)
    assert before["phone"] == f"+7 {realtor_phone[2:5]} ***-**-{realtor_phone[-2:]}"
    assert (before["telegram"], before["email"], before["first_name"]) == (None, None, "Иван")

    open_chat(gateway, buyer, realtor)  # chat.created reaches auth as an event
    deadline = time.monotonic() + 10
    row = listed_row(gateway, buyer, realtor_id)
    while row["phone"] != realtor_phone:
        assert time.monotonic() < deadline, row
        time.sleep(0.1)
        row = listed_row(gateway, buyer, realtor_id)
    assert (row["telegram"], row["email"]) == ("@realtor", "realtor@example.com")
    stranger = app_client.login(f"+7920{phone[5:]}", "user")
    assert listed_row(gateway, stranger, realtor_id)["phone"] == before["phone"]
