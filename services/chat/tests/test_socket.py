"""The chat socket on two real uvicorn replicas sharing PostgreSQL, Redis and the namespace."""

import asyncio
import json
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy import select
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from chat_service.models import outbox
from event_contracts.presence import chat_presence_prefix, chat_presence_topic
from service_kit.presence import Presence
from service_kit.testing import REDIS_URL, TokenFactory, validate_event

from .conftest import Replica, Replicas, World, new_id, nothing_more, open_socket, receive, receive_type


async def open_chat(world: World, replica: Replica, tokens: TokenFactory) -> tuple[int, int, int]:
    buyer, seller = new_id(), new_id()
    listing = await world.listing(seller)
    async with httpx.AsyncClient(base_url=replica.http) as http:
        response = await http.post(
            "/chat/create_chat",
            json={"buyer_id": buyer, "seller_id": seller, "property_id": listing},
            headers=tokens.headers(buyer, "user"),
        )
    assert response.status_code == 201, response.text
    return response.json()["id"], buyer, seller


async def say(ws: ClientConnection, text: str, client_id: str | None = None) -> dict[str, Any]:
    """Sends a message and returns its ack (the echo of one's own message follows it)."""
    await ws.send(json.dumps({"type": "message", "text": text, "client_id": client_id or str(uuid.uuid4())}))
    return await receive_type(ws, "ack")


async def closed_with(ws: ClientConnection, timeout: float = 5.0) -> int | None:
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            await asyncio.wait_for(ws.recv(), timeout)
    return closed.value.rcvd.code if closed.value.rcvd else None


@pytest.fixture
async def pair(replicas: Replicas) -> tuple[Replica, Replica]:
    return await replicas(), await replicas()


async def test_messages_cross_replicas_once_in_order_with_acks(
    pair: tuple[Replica, Replica], world: World, tokens: TokenFactory
) -> None:
    a, b = pair
    chat_id, buyer, seller = await open_chat(world, a, tokens)
    buyer_ws, buyer_hello = await open_socket(a.ws_url(chat_id, tokens.token(buyer, "user")))
    seller_ws, seller_hello = await open_socket(b.ws_url(chat_id, tokens.token(seller, "realtor")))
    assert buyer_hello["replica"] != seller_hello["replica"]
    assert buyer_hello["last_seq"] == 0

    for number in range(1, 6):
        ack = await say(buyer_ws, f"привет {number}")
        assert ack["seq"] == number and ack["duplicate"] is False
        echo = await receive_type(buyer_ws, "message")
        assert (echo["id"], echo["seq"]) == (ack["id"], number)
    received = [await receive_type(seller_ws, "message") for _ in range(5)]
    assert [frame["content"] for frame in received] == [f"привет {n}" for n in range(1, 6)]
    assert [frame["seq"] for frame in received] == [1, 2, 3, 4, 5]
    assert {frame["sender_id"] for frame in received} == {buyer}
    assert received[0].keys() >= {"id", "seq", "chat_id", "sender_id", "content", "created_at"}
    assert received[0]["text"] == received[0]["content"]  # the deprecated name

    await seller_ws.send("ответ простым текстом")  # a plain-text frame is a message
    reply = await receive_type(seller_ws, "ack")
    assert reply["seq"] == 6 and reply["client_id"] is None
    assert (await receive_type(buyer_ws, "message"))["content"] == "ответ простым текстом"
    await receive_type(seller_ws, "message")  # the seller's own echo
    await seller_ws.send(json.dumps({"type": "message", "content": "как у исходного сервера"}))
    assert (await receive_type(seller_ws, "ack"))["seq"] == 7
    assert (await receive_type(buyer_ws, "message"))["content"] == "как у исходного сервера"
    await receive_type(seller_ws, "message")
    await nothing_more(seller_ws)
    await nothing_more(buyer_ws)
    await buyer_ws.close()
    await seller_ws.close()


async def test_retried_client_id_is_stored_once(
    pair: tuple[Replica, Replica], world: World, tokens: TokenFactory
) -> None:
    a, b = pair
    chat_id, buyer, seller = await open_chat(world, a, tokens)
    buyer_ws, _ = await open_socket(a.ws_url(chat_id, tokens.token(buyer, "user")))
    seller_ws, _ = await open_socket(b.ws_url(chat_id, tokens.token(seller, "realtor")))
    client_id = str(uuid.uuid4())
    first = await say(buyer_ws, "один раз", client_id)
    await receive_type(buyer_ws, "message")
    # The retry comes from a new connection on the other replica, as after a lost ack.
    retry_ws, _ = await open_socket(b.ws_url(chat_id, tokens.token(buyer, "user")))
    second = await say(retry_ws, "один раз", client_id)
    assert (second["id"], second["seq"], second["duplicate"]) == (first["id"], first["seq"], True)
    assert (await receive_type(seller_ws, "message"))["id"] == first["id"]
    await nothing_more(seller_ws)
    async with httpx.AsyncClient(base_url=a.http) as http:
        history = await http.get(f"/chat/chat_messages/{chat_id}", headers=tokens.headers(seller, "realtor"))
    assert [message["content"] for message in history.json()] == ["один раз"]
    for ws in (buyer_ws, seller_ws, retry_ws):
        await ws.close()


async def test_reconnect_with_after_replays_and_big_gaps_reload(
    replicas: Replicas, world: World, tokens: TokenFactory
) -> None:
    a = await replicas(replay_limit=5)
    chat_id, buyer, seller = await open_chat(world, a, tokens)
    buyer_ws, _ = await open_socket(a.ws_url(chat_id, tokens.token(buyer, "user")))
    for number in range(1, 9):
        await say(buyer_ws, f"m{number}")
        await receive_type(buyer_ws, "message")

    replay_ws, hello = await open_socket(a.ws_url(chat_id, tokens.token(seller, "realtor"), after=5))
    assert hello["last_seq"] == 8
    assert [(await receive_type(replay_ws, "message"))["seq"] for _ in range(3)] == [6, 7, 8]
    await nothing_more(replay_ws)

    far_ws, _ = await open_socket(a.ws_url(chat_id, tokens.token(seller, "realtor"), after=1))
    reload = await receive_type(far_ws, "reload")
    assert (reload["after"], reload["last_seq"]) == (1, 8)
    assert f"/chat/chat_messages/{chat_id}?after=1" in reload["detail"]
    await say(buyer_ws, "m9")
    assert (await receive_type(far_ws, "message"))["seq"] == 9  # live again after the reload
    for ws in (buyer_ws, replay_ws, far_ws):
        await ws.close()


async def test_read_receipts_reach_the_other_side_and_clear_unread(
    pair: tuple[Replica, Replica], world: World, tokens: TokenFactory
) -> None:
    a, b = pair
    chat_id, buyer, seller = await open_chat(world, a, tokens)
    buyer_ws, _ = await open_socket(a.ws_url(chat_id, tokens.token(buyer, "user")))
    seller_ws, _ = await open_socket(b.ws_url(chat_id, tokens.token(seller, "realtor")))
    for text in ("раз", "два"):
        await say(buyer_ws, text)
        await receive_type(buyer_ws, "message")
        await receive_type(seller_ws, "message")
    seller_headers = tokens.headers(seller, "realtor")
    async with httpx.AsyncClient(base_url=b.http, headers=seller_headers) as http:
        assert (await http.get("/chat/my_chats")).json()[0]["unread_count"] == 2
        await seller_ws.send(json.dumps({"type": "read", "seq": 99}))  # clamped to the last message
        receipt = await receive_type(buyer_ws, "read")
        assert (receipt["user_id"], receipt["seq"]) == (seller, 2)
        assert (await receive_type(seller_ws, "read"))["seq"] == 2
        assert (await http.get("/chat/my_chats")).json()[0]["unread_count"] == 0
        page = (await http.get(f"/chat/chat_messages/{chat_id}")).headers
        assert (page["x-read-seq"], page["x-other-read-seq"], page["x-last-seq"]) == ("2", "0", "2")
        await seller_ws.send(json.dumps({"type": "read", "seq": 1}))  # never moves back
        assert (await receive_type(buyer_ws, "read"))["seq"] == 2
    for ws in (buyer_ws, seller_ws):
        await ws.close()
    # Each read mark is published (chat.read), so the notifications service keeps the unread badge.
    async with b.container.runtime.database.sessions() as session:
        reads = [
            row.envelope
            for row in await session.execute(select(outbox.c.envelope).where(outbox.c.event_type == "chat.read"))
            if row.envelope["data"]["chat_id"] == chat_id
        ]
    for event in reads:
        validate_event(event)
    assert [(event["data"]["user_id"], event["data"]["read_seq"]) for event in reads] == [(seller, 2), (seller, 2)]


async def test_an_open_socket_is_present_on_its_chat_until_it_closes(
    pair: tuple[Replica, Replica], world: World, tokens: TokenFactory
) -> None:
    a, b = pair
    chat_id, buyer, seller = await open_chat(world, a, tokens)
    presence = Presence(a.container.runtime.redis, chat_presence_prefix(a.container.settings.namespace))
    topic = chat_presence_topic(chat_id, seller)
    assert not await presence.present(topic)
    phone, _ = await open_socket(a.ws_url(chat_id, tokens.token(seller, "realtor")))
    laptop, _ = await open_socket(b.ws_url(chat_id, tokens.token(seller, "realtor")))
    # Present from the hello on, on either replica; the buyer is not, nor the seller on another chat.
    assert await presence.present(topic)
    assert not await presence.present(chat_presence_topic(chat_id, buyer))
    assert not await presence.present(chat_presence_topic(chat_id + 1, seller))
    await phone.close()
    await asyncio.sleep(0.2)
    assert await presence.present(topic), "the laptop still has the chat open"
    await laptop.close()
    deadline = asyncio.get_running_loop().time() + 5
    while await presence.present(topic):
        assert asyncio.get_running_loop().time() < deadline, "presence outlived the sockets"
        await asyncio.sleep(0.05)


async def test_presence_of_a_replica_that_died_expires_by_itself(
    replicas: Replicas, world: World, tokens: TokenFactory
) -> None:
    replica = await replicas(presence_ttl_seconds=1.0)
    chat_id, buyer, _ = await open_chat(world, replica, tokens)
    ws, _ = await open_socket(replica.ws_url(chat_id, tokens.token(buyer, "user")))
    presence = Presence(replica.container.runtime.redis, chat_presence_prefix(replica.container.settings.namespace))
    topic = chat_presence_topic(chat_id, buyer)
    await asyncio.sleep(1.5)  # refreshed every third of the TTL while the socket is open
    assert await presence.present(topic)
    replica.container.presence._local.clear()  # the replica stops refreshing, as a dead one would
    await asyncio.sleep(1.5)
    assert not await presence.present(topic)
    await ws.close()


async def test_bad_frames_get_error_frames_not_crashes(
    pair: tuple[Replica, Replica], world: World, tokens: TokenFactory
) -> None:
    a, _ = pair
    chat_id, buyer, _ = await open_chat(world, a, tokens)
    ws, _ = await open_socket(a.ws_url(chat_id, tokens.token(buyer, "user")))
    for frame, code in [
        (json.dumps({"type": "dance"}), "invalid_frame"),
        (json.dumps({"type": "read", "seq": "many"}), "invalid_frame"),
        (json.dumps({"type": "message", "text": "x", "client_id": "not-a-uuid"}), "invalid_frame"),
        (json.dumps({"type": "message", "text": "   "}), "empty"),
        (json.dumps({"type": "message", "text": "я" * 4001}), "too_long"),
        # PostgreSQL text cannot hold NUL: refused up front, not retried forever as "unavailable".
        (json.dumps({"type": "message", "text": "a\u0000b", "client_id": str(uuid.uuid4())}), "invalid_frame"),
        ("plain\x00text", "invalid_frame"),
        ('{"type": "message", "text": "half \\ud800 a pair"}', "invalid_frame"),
    ]:
        await ws.send(frame)
        assert (await receive_type(ws, "error"))["code"] == code
    await ws.send(b"\x00\x01")
    assert (await receive_type(ws, "error"))["code"] == "unsupported"
    assert (await say(ws, "и всё ещё работает"))["seq"] == 1
    await ws.close()


async def test_refused_sockets_get_close_codes(
    pair: tuple[Replica, Replica], world: World, tokens: TokenFactory
) -> None:
    a, _ = pair
    chat_id, buyer, _ = await open_chat(world, a, tokens)
    cases = [
        (a.ws_url(chat_id, None), 4001),
        (a.ws_url(chat_id, "garbage"), 4001),
        (a.ws_url(chat_id, TokenFactory().token(buyer, "user")), 4001),  # forged: unknown key
        (a.ws_url(chat_id, tokens.token(buyer, "user", ttl_seconds=-10)), 4001),
        (a.ws_url(chat_id, tokens.token(new_id(), "user")), 4003),
        (a.ws_url(999_999_999, tokens.token(buyer, "user")), 4003),
        (a.ws_url("abc", tokens.token(buyer, "user")), 4003),
        # Beyond BIGINT, signs and non-ASCII digits are no chat either (not a crash).
        (a.ws_url(2**63, tokens.token(buyer, "user")), 4003),
        (a.ws_url(2**63 - 1, tokens.token(buyer, "user")), 4003),
        (a.ws_url("99999999999999999999999999", tokens.token(buyer, "user")), 4003),
        (a.ws_url("0", tokens.token(buyer, "user")), 4003),
        (a.ws_url("%2B1", tokens.token(buyer, "user")), 4003),
        (a.ws_url("%D9%A1", tokens.token(buyer, "user")), 4003),
        # Two different tokens: ambiguous, whichever one the gateway checked.
        (a.ws_url(chat_id, tokens.token(buyer, "user")) + "&token=" + tokens.token(new_id(), "user"), 4001),
    ]
    for url, code in cases:
        async with connect(url) as ws:
            assert await closed_with(ws) == code, url
    # The same token twice is not ambiguous.
    same = tokens.token(buyer, "user")
    ws, _ = await open_socket(a.ws_url(chat_id, same) + f"&token={same}")
    await ws.close()


async def test_unexpected_errors_close_with_1011_not_crash(
    replicas: Replicas, world: World, tokens: TokenFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = await replicas()
    chat_id, buyer, _ = await open_chat(world, a, tokens)

    async def broken(*_: Any) -> None:
        raise RuntimeError("database exploded")

    monkeypatch.setattr(a.container.chats, "participant_chat", broken)
    async with connect(a.ws_url(chat_id, tokens.token(buyer, "user"))) as ws:
        assert await closed_with(ws) == 1011
    monkeypatch.undo()
    ws, _ = await open_socket(a.ws_url(chat_id, tokens.token(buyer, "user")))  # the replica still serves
    await ws.close()


async def test_listening_socket_is_closed_when_its_token_expires_or_is_revoked(
    replicas: Replicas, world: World, tokens: TokenFactory
) -> None:
    a = await replicas(socket_token_check_seconds=0.2)
    chat_id, buyer, seller = await open_chat(world, a, tokens)
    expiring, _ = await open_socket(a.ws_url(chat_id, tokens.token(buyer, "user", ttl_seconds=2)))
    revoked, _ = await open_socket(a.ws_url(chat_id, tokens.token(seller, "realtor")))
    listening, _ = await open_socket(a.ws_url(chat_id, tokens.token(buyer, "user")))
    a.container.runtime.verifier.revocations.add(seller)  # as the revocation feed does
    assert await closed_with(revoked, 2) == 4001
    assert await closed_with(expiring, 4) == 4001
    await nothing_more(listening)  # a valid token stays open
    await listening.close()


async def test_frame_over_64_kib_closes_only_that_socket_with_1009(
    pair: tuple[Replica, Replica], world: World, tokens: TokenFactory
) -> None:
    a, _ = pair
    chat_id, buyer, seller = await open_chat(world, a, tokens)
    big_ws, _ = await open_socket(a.ws_url(chat_id, tokens.token(buyer, "user")))
    other_ws, _ = await open_socket(a.ws_url(chat_id, tokens.token(seller, "realtor")))
    await big_ws.send("x" * (64 * 1024 + 1))
    assert await closed_with(big_ws) == 1009
    assert (await say(other_ws, "я ещё здесь"))["seq"] == 1
    await other_ws.close()


async def test_flooding_sender_is_closed_with_4029(replicas: Replicas, world: World, tokens: TokenFactory) -> None:
    a = await replicas(message_rate_limit=5)
    chat_id, buyer, _ = await open_chat(world, a, tokens)
    ws, _ = await open_socket(a.ws_url(chat_id, tokens.token(buyer, "user")))
    for number in range(6):
        await ws.send(f"спам {number}")
    codes = await closed_with(ws)
    assert codes == 4029


def rss_bytes() -> int:
    """This process's resident memory (the replicas run in it), from /proc/self/status."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS in /proc/self/status")


async def test_slow_reader_is_dropped_on_the_normal_path_while_a_fast_one_keeps_up(
    replicas: Replicas, world: World, tokens: TokenFactory
) -> None:
    """Messages sent by another participant through the normal path (socket, PostgreSQL, Redis fan-out)
    to a chat with a client that stops reading: it is closed with 4008, the fast reader gets every
    message in order, and memory stays bounded.

    In-process a stored message costs ~15-25 ms of CPU (SQLAlchemy, and every replica's outbox relay
    woken by its NOTIFY), so 10 000 of them would take minutes: 300 messages of 60 000 characters
    (18 MB, more than the kernel's socket buffers) overflow the slow reader's queue (32 here) just the same.
    The 10 000-frame volume is the next test's, published straight into the fan-out.
    """
    a = await replicas(message_rate_limit=100_000, message_max_length=60_000)
    b = await replicas(message_rate_limit=100_000, message_max_length=60_000, socket_queue_size=32)
    chat_id, buyer, seller = await open_chat(world, a, tokens)
    sender_ws, _ = await open_socket(a.ws_url(chat_id, tokens.token(buyer, "user")))
    slow_ws, _ = await open_socket(b.ws_url(chat_id, tokens.token(seller, "realtor")))
    fast_ws, _ = await open_socket(b.ws_url(chat_id, tokens.token(seller, "realtor")))
    total, text = 300, "x" * 60_000
    before = peak = rss_bytes()

    async def fast_reader() -> None:
        nonlocal peak
        for seq in range(1, total + 1):
            frame = await receive(fast_ws, 10)
            assert (frame["type"], frame["seq"]) == ("message", seq), frame
            if seq % 50 == 0:
                peak = max(peak, rss_bytes())

    async def sender_reader() -> None:  # the sender reads its acks and echoes, as a client should
        for _ in range(2 * total):
            await receive(sender_ws, 10)

    readers = [asyncio.create_task(fast_reader()), asyncio.create_task(sender_reader())]
    for _ in range(total):
        await sender_ws.send(text)
    await asyncio.wait_for(asyncio.gather(*readers), 30)
    assert await closed_with(slow_ws, 10) == 4008
    assert b.container.sockets.live_sockets() == 1
    growth = max(peak, rss_bytes()) - before
    assert growth < 50 * 2**20, f"memory grew by {growth / 2**20:.1f} MiB"
    for ws in (sender_ws, fast_ws):
        await ws.close()


async def test_slow_reader_of_10000_frames_is_dropped_while_a_fast_one_keeps_up(
    pair: tuple[Replica, Replica], world: World, tokens: TokenFactory
) -> None:
    """10 000 frames go through the real fan-out into a socket that stops reading; its queue stays bounded."""
    a, b = pair
    chat_id, buyer, seller = await open_chat(world, a, tokens)
    slow_ws, _ = await open_socket(b.ws_url(chat_id, tokens.token(seller, "realtor")))
    fast_ws, _ = await open_socket(b.ws_url(chat_id, tokens.token(buyer, "user")))
    total = 10_000
    text = "x" * 4000
    before = peak = rss_bytes()

    seen = 0

    async def read_all() -> None:
        nonlocal seen, peak
        while seen < total:
            frame = await receive(fast_ws, 10)
            assert frame["seq"] == seen + 1
            seen += 1
            if seen % 500 == 0:
                peak = max(peak, rss_bytes())

    reader = asyncio.create_task(read_all())
    fanout = a.container.fanout
    batch = 100
    for start in range(1, total + 1, batch):
        async with a.container.runtime.redis.pipeline(transaction=False) as pipe:
            for seq in range(start, min(start + batch, total + 1)):
                frame = {"type": "message", "id": seq, "seq": seq, "chat_id": chat_id, "sender_id": buyer}
                pipe.publish(fanout.channel(chat_id), json.dumps(frame | {"text": text, "created_at": "2026-01-01"}))
            await pipe.execute()
        while seen < start - batch and not reader.done():  # a reader that keeps up, paced like one
            await asyncio.sleep(0.001)
    await asyncio.wait_for(reader, 30)
    assert await closed_with(slow_ws, 30) == 4008
    assert b.container.sockets.live_sockets() == 1
    growth = max(peak, rss_bytes()) - before
    assert growth < 50 * 2**20, f"memory grew by {growth / 2**20:.1f} MiB"
    await fast_ws.close()


async def test_deleted_user_closes_live_chat(pair: tuple[Replica, Replica], world: World, tokens: TokenFactory) -> None:
    a, b = pair
    chat_id, buyer, seller = await open_chat(world, a, tokens)
    buyer_ws, _ = await open_socket(a.ws_url(chat_id, tokens.token(buyer, "user")))
    seller_ws, _ = await open_socket(b.ws_url(chat_id, tokens.token(seller, "realtor")))
    await world.delete_user(buyer)
    closed = await receive_type(seller_ws, "closed")
    assert (closed["reason"], closed["user_id"]) == ("user_deleted", buyer)
    assert await closed_with(buyer_ws) == 4001
    await seller_ws.send(json.dumps({"type": "message", "text": "вы тут?"}))
    assert (await receive_type(seller_ws, "error"))["code"] == "chat_closed"
    await seller_ws.close()


async def test_fanout_recovers_after_redis_drops_the_subscriber(
    replicas: Replicas, world: World, tokens: TokenFactory
) -> None:
    # B waits 3 s before reconnecting, so its /ready 503 lasts long enough to be seen for sure.
    a, b = await replicas(), await replicas(fanout_reconnect_seconds=3.0)
    chat_id, buyer, seller = await open_chat(world, a, tokens)
    buyer_ws, _ = await open_socket(a.ws_url(chat_id, tokens.token(buyer, "user")))
    seller_ws, _ = await open_socket(b.ws_url(chat_id, tokens.token(seller, "realtor")))
    redis = Redis.from_url(REDIS_URL)
    try:
        clients = await redis.client_list()
        name = b.container.fanout.client_name
        killed = [client["id"] for client in clients if client.get("name") == name]
        assert killed
        for client_id in killed:
            await redis.client_kill_filter(_id=client_id)
    finally:
        await redis.aclose()
    async with httpx.AsyncClient(base_url=b.http) as http:
        deadline = asyncio.get_running_loop().time() + 2.5
        while (await http.get("/ready")).status_code != 503:
            assert asyncio.get_running_loop().time() < deadline, "/ready did not report the fan-out down"
            await asyncio.sleep(0.02)
        # Sent while B has no subscription: B catches up from PostgreSQL once it resubscribed.
        await say(buyer_ws, "пока Redis мигал")
        await receive_type(buyer_ws, "message")
        assert (await receive_type(seller_ws, "message", timeout=10))["text"] == "пока Redis мигал"
        assert (await http.get("/ready")).status_code == 200
    await say(buyer_ws, "и после")
    assert (await receive_type(seller_ws, "message"))["text"] == "и после"
    for ws in (buyer_ws, seller_ws):
        await ws.close()


async def test_graceful_shutdown_closes_sockets_with_1012(
    replicas: Replicas, world: World, tokens: TokenFactory
) -> None:
    a = await replicas()
    chat_id, buyer, _ = await open_chat(world, a, tokens)
    ws, _ = await open_socket(a.ws_url(chat_id, tokens.token(buyer, "user")))
    stopping = asyncio.create_task(a.stop())
    assert await closed_with(ws) == 1012
    await stopping
