"""Chat messages: only while the recipient does not look at the chat, one push per chat per window, never the sender."""

import asyncio

import httpx
import pytest
from fastapi import FastAPI

from event_contracts.presence import chat_presence_prefix, chat_presence_topic
from service_kit.presence import Presence
from service_kit.testing import TokenFactory

from .conftest import Events, inbox_of, pushes_settled, register_device
from .fake_push import FakePush


async def test_a_burst_of_five_messages_is_one_push(
    client: httpx.AsyncClient, tokens: TokenFactory, app: FastAPI, events: Events, push: FakePush
) -> None:
    buyer, seller = await events.user(first_name="Анна"), await events.user()
    await register_device(client, tokens, seller, f"seller-{seller}")
    chat = await events.chat(buyer, seller)
    for seq in range(1, 6):
        await events.message(chat, seq, buyer, seller, f"сообщение {seq}")

    await pushes_settled(push, f"seller-{seller}", 1, kind="message")
    messages = [entry for entry in await inbox_of(app, seller) if entry.kind == "message"]
    assert [entry.body for entry in messages] == [f"сообщение {seq}" for seq in range(1, 6)]
    assert [entry.push_status for entry in messages] == ["sent", *["coalesced"] * 4]
    badge = (await client.get("/notifications/badge", headers=tokens.headers(seller, "realtor"))).json()
    assert (badge["messages"], badge["chats"]) == (5, 1)


async def test_no_push_while_the_chat_is_open_on_another_device(
    client: httpx.AsyncClient, tokens: TokenFactory, app: FastAPI, events: Events, push: FakePush
) -> None:
    buyer, seller = await events.user(), await events.user()
    await register_device(client, tokens, seller, f"seller-{seller}")
    chat = await events.chat(buyer, seller)
    # What the chat service does while the seller's laptop has the chat open (contracts/presence.md).
    presence = Presence(app.state.container.runtime.redis, chat_presence_prefix(app.state.container.settings.namespace))
    await presence.enter(chat_presence_topic(chat, seller), "laptop-socket")
    for seq in range(1, 6):
        await events.message(chat, seq, buyer, seller)

    await pushes_settled(push, f"seller-{seller}", 0, kind="message")
    assert [entry.kind for entry in await inbox_of(app, seller)] == ["response"], "not a notification while looking"
    badge = (await client.get("/notifications/badge", headers=tokens.headers(seller, "realtor"))).json()
    assert badge["messages"] == 5, "the badge still counts them until the chat is read"

    await presence.leave(chat_presence_topic(chat, seller), "laptop-socket")
    await events.message(chat, 6, buyer, seller)
    await pushes_settled(push, f"seller-{seller}", 1, kind="message")


async def test_the_sender_is_never_told_of_their_own_message(
    client: httpx.AsyncClient, tokens: TokenFactory, app: FastAPI, events: Events, push: FakePush
) -> None:
    user = await events.user()
    await register_device(client, tokens, user, f"self-{user}")
    chat = await events.chat(user + 1, user)
    await events.message(chat, 1, user, user)
    assert [entry.kind for entry in await inbox_of(app, user)] == ["response"]
    await pushes_settled(push, f"self-{user}", 0, kind="message")


@pytest.mark.parametrize("overrides", [{"message_push_window_seconds": 1.0}])
async def test_the_next_push_after_the_window_carries_the_unread_count(
    client: httpx.AsyncClient, tokens: TokenFactory, app: FastAPI, events: Events, push: FakePush
) -> None:
    buyer, seller = await events.user(first_name="Анна"), await events.user()
    await register_device(client, tokens, seller, f"seller-{seller}")
    chat = await events.chat(buyer, seller)
    for seq in (1, 2, 3):
        await events.message(chat, seq, buyer, seller, f"сообщение {seq}")
    # The window opens when the first push is decided: wait for it, then let the window pass.
    await pushes_settled(push, f"seller-{seller}", 1, kind="message")
    await asyncio.sleep(1.2)
    await events.message(chat, 4, buyer, seller, "сообщение 4")
    await pushes_settled(push, f"seller-{seller}", 2, kind="message")
    first, second = push.to(f"seller-{seller}", "message")
    assert first.message["notification"]["body"] == "сообщение 1"
    assert second.message["notification"]["body"] == "4 новых сообщения · сообщение 4"
    # One chat's pushes replace each other on the device.
    assert first.message["android"]["collapse_key"] == second.message["android"]["collapse_key"] == f"chat:{chat}"


async def test_reading_the_chat_clears_its_badge_and_message_notifications(
    client: httpx.AsyncClient, tokens: TokenFactory, app: FastAPI, events: Events
) -> None:
    buyer, seller = await events.user(), await events.user()
    chat, other = await events.chat(buyer, seller), await events.chat(buyer, seller)
    for seq in (1, 2, 3):
        await events.message(chat, seq, buyer, seller)
    await events.message(other, 1, buyer, seller)
    headers = tokens.headers(seller, "realtor")
    assert (await client.get("/notifications/badge", headers=headers)).json() == {
        "notifications": 6,  # two responses, four messages
        "messages": 4,
        "chats": 2,
    }
    await events.read(chat, seller, 2)
    assert (await client.get("/notifications/badge", headers=headers)).json() == {
        "notifications": 4,
        "messages": 2,
        "chats": 2,
    }
    await events.read(chat, seller, 1)  # a read mark never moves back
    await events.read(chat, seller, 3)
    badge = (await client.get("/notifications/badge", headers=headers)).json()
    assert (badge["messages"], badge["chats"]) == (1, 1)
    # A message the recipient read before its event arrived (events of two producers race) is not unread.
    await events.read(other, seller, 5)
    await events.message(other, 5, buyer, seller)
    assert (await client.get("/notifications/badge", headers=headers)).json()["messages"] == 0
