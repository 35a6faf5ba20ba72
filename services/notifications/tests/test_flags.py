"""The five settings, one by one (README, "Notifications"): what each lets through, and what switching it off stops.

Off means: still recorded in the inbox (``alert`` false, ``push_status`` "off"), never pushed.
"""

import httpx
from fastapi import FastAPI

from service_kit.testing import TokenFactory

from .conftest import Events, inbox_of, new_id, pushes_settled, register_device
from .fake_push import FakePush


async def test_new_matches_tell_both_sides_and_off_stops_the_push(
    client: httpx.AsyncClient, tokens: TokenFactory, app: FastAPI, events: Events, push: FakePush
) -> None:
    buyer, seller = await events.user(first_name="Покупатель"), await events.user(first_name="Риелтор")
    await register_device(client, tokens, buyer, f"buyer-{buyer}")
    await register_device(client, tokens, seller, f"seller-{seller}", platform="rustore")

    match = await events.match(buyer, seller)
    [told_buyer], [told_seller] = await inbox_of(app, buyer), await inbox_of(app, seller)
    assert (told_buyer.kind, told_buyer.title) == ("match", "Новый объект по вашей заявке")
    assert told_buyer.body == "Двушка у парка — Казань, 2-комн., 9 000 000 ₽"
    assert told_buyer.data == {
        "request_id": match.data["request_id"],
        "property_id": match.data["property_id"],
        "side": "buyer",
    }
    assert (told_seller.title, told_seller.body) == (
        "Покупатель ищет такой объект",
        "Заявка: Казань, 2-комн., до 10 000 000 ₽",
    )
    assert told_seller.data["buyer_id"] == buyer, "the seller may open a chat with this buyer"
    assert told_buyer.alert and told_seller.alert
    await pushes_settled(push, f"buyer-{buyer}", 1)
    await pushes_settled(push, f"seller-{seller}", 1)
    assert push.to(f"seller-{seller}")[0].provider == "rustore"

    await events.settings(buyer, new_matches=False)
    await events.match(buyer, seller)
    latest = (await inbox_of(app, buyer))[-1]
    assert (latest.kind, latest.alert, latest.push_status) == ("match", False, "off")
    await pushes_settled(push, f"buyer-{buyer}", 1)  # no second push
    await pushes_settled(push, f"seller-{seller}", 2)  # the seller's setting is on


async def test_all_messages_while_away_and_off_stops_the_push(
    client: httpx.AsyncClient, tokens: TokenFactory, app: FastAPI, events: Events, push: FakePush
) -> None:
    buyer, seller = await events.user(first_name="Анна"), await events.user()
    await register_device(client, tokens, seller, f"seller-{seller}")
    chat = await events.chat(buyer, seller)
    await events.message(chat, 1, buyer, seller, "Здравствуйте, ещё продаётся?")
    message = (await inbox_of(app, seller))[-1]
    assert (message.kind, message.title, message.body) == ("message", "Анна Иванов", "Здравствуйте, ещё продаётся?")
    assert message.data["chat_id"] == chat and message.alert
    await pushes_settled(push, f"seller-{seller}", 1, kind="message")
    [sent] = push.to(f"seller-{seller}", "message")
    assert sent.message["notification"] == {"title": "Анна Иванов", "body": "Здравствуйте, ещё продаётся?"}

    other_chat = await events.chat(buyer, seller)
    await events.settings(seller, all_messages=False)
    await events.message(other_chat, 1, buyer, seller)
    quiet = (await inbox_of(app, seller))[-1]
    assert (quiet.kind, quiet.alert, quiet.push_status) == ("message", False, "off")
    await pushes_settled(push, f"seller-{seller}", 1, kind="message")


async def test_responses_tell_the_side_that_did_not_open_the_chat(
    client: httpx.AsyncClient, tokens: TokenFactory, app: FastAPI, events: Events, push: FakePush
) -> None:
    buyer, seller = await events.user(first_name="Олег"), await events.user(first_name="Мария")
    for user in (buyer, seller):
        await register_device(client, tokens, user, f"device-{user}")

    await events.chat(buyer, seller, opened_by=buyer)
    [response] = await inbox_of(app, seller)
    assert (response.kind, response.title, response.body) == (
        "response",
        "Новый отклик",
        "Олег Иванов хочет обсудить ваше объявление",
    )
    assert await inbox_of(app, buyer) == []
    # After a match the seller may approach the buyer: then the buyer hears of it.
    await events.chat(buyer, seller, opened_by=seller)
    [offer] = await inbox_of(app, buyer)
    assert (offer.title, offer.body) == ("Продавец откликнулся на вашу заявку", "Мария Иванов предлагает вам объект")
    await pushes_settled(push, f"device-{seller}", 1)
    await pushes_settled(push, f"device-{buyer}", 1)

    await events.settings(seller, responses=False)
    await events.chat(buyer, seller, opened_by=buyer)
    assert (await inbox_of(app, seller))[-1].push_status == "off"
    await pushes_settled(push, f"device-{seller}", 1)


async def test_contacts_tell_the_owner_once_per_viewer_and_listing(
    client: httpx.AsyncClient, tokens: TokenFactory, app: FastAPI, events: Events, push: FakePush
) -> None:
    owner, viewer = await events.user(), await events.user(first_name="Пётр")
    await register_device(client, tokens, owner, f"owner-{owner}")
    listing = new_id()
    await events.reveal(owner, viewer, listing)
    await events.reveal(owner, viewer, listing)  # the same viewer again: nothing new to tell
    await events.reveal(owner, owner, listing)  # the owner's own number
    [revealed] = await inbox_of(app, owner)
    assert (revealed.kind, revealed.title) == ("contact", "Ваш телефон посмотрели")
    assert revealed.body == "Пётр Иванов узнал(а) ваш номер в объявлении «Дом у реки»"
    await pushes_settled(push, f"owner-{owner}", 1)

    await events.settings(owner, contacts=False)
    await events.reveal(owner, await events.user(), listing)
    assert (await inbox_of(app, owner))[-1].push_status == "off"
    await pushes_settled(push, f"owner-{owner}", 1)
