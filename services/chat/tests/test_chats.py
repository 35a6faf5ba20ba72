"""Opening chats, listing them and paging history over REST, with the read models fed by events."""

import re
import uuid
from datetime import UTC, datetime, timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from chat_service.container import ChatContainer
from chat_service.events.handlers import on_user_profile
from chat_service.models import KnownUser, outbox
from event_contracts.users import UserProfile
from service_kit.events.data import parse_event
from service_kit.testing import TokenFactory, envelope, validate_event

from .conftest import World, new_id, user_data


async def send(app: FastAPI, chat_id: int, sender_id: int, text: str) -> int:
    container: ChatContainer = app.state.container
    async with container.runtime.database.unit_of_work() as work:
        sent = await container.chats.send(work, chat_id, sender_id, text, uuid.uuid4())
    return sent.message.seq


async def test_create_chat_is_idempotent_and_published(
    client: httpx.AsyncClient, tokens: TokenFactory, world: World, app: FastAPI
) -> None:
    buyer, seller = new_id(), new_id()
    listing = await world.listing(seller)
    body = {"buyer_id": buyer, "seller_id": seller, "property_id": listing}

    first = await client.post("/chat/create_chat", json=body, headers=tokens.headers(buyer, "user"))
    assert first.status_code == 201, first.text
    again = await client.post("/chat/create_chat/", json=body, headers=tokens.headers(buyer, "user"))
    by_seller = await client.post("/chat/create_chat", json=body, headers=tokens.headers(seller, "realtor"))
    assert (again.status_code, by_seller.status_code) == (200, 200)
    assert first.json()["id"] == again.json()["id"] == by_seller.json()["id"]
    assert first.json()["closed"] is False

    container: ChatContainer = app.state.container
    async with container.runtime.database.sessions() as session:
        events = [
            row.envelope
            for row in await session.execute(select(outbox.c.envelope).where(outbox.c.event_type == "chat.created"))
            if row.envelope["data"]["chat_id"] == first.json()["id"]
        ]
    assert len(events) == 1
    validate_event(events[0])
    assert events[0]["data"] | {"created_at": None} == body | {
        "chat_id": first.json()["id"],
        "created_at": None,
        "opened_by": buyer,  # the seller is the one to tell
    }


async def test_create_chat_refusals(client: httpx.AsyncClient, tokens: TokenFactory, world: World) -> None:
    buyer, seller, stranger = new_id(), new_id(), new_id()
    listing = await world.listing(seller)
    archived = await world.listing(seller, status="archived")

    def create(caller: int, **changes: int) -> httpx.Request:
        body = {"buyer_id": buyer, "seller_id": seller, "property_id": listing} | changes
        return client.build_request("POST", "/chat/create_chat", json=body, headers=tokens.headers(caller, "user"))

    async def status_of(request: httpx.Request) -> tuple[int, str]:
        response = await client.send(request)
        if response.status_code == 201:
            return 201, ""
        detail = response.json()["detail"]
        # A 422 is FastAPI's list of field errors, like every 422.
        return response.status_code, detail if isinstance(detail, str) else " ".join(item["msg"] for item in detail)

    assert (await status_of(create(stranger)))[0] == 403
    assert (await status_of(create(buyer, property_id=new_id())))[0] == 404
    code, detail = await status_of(create(buyer, property_id=archived))
    assert (code, "archived" in detail) == (409, True)
    code, detail = await status_of(create(stranger, seller_id=stranger))
    assert (code, "does not own" in detail) == (422, True)
    assert (await status_of(create(buyer, seller_id=buyer)))[0] == 422
    assert (await status_of(create(buyer, buyer_id=0)))[0] == 422
    for field in ("buyer_id", "seller_id", "property_id"):  # INTEGER columns: bigger ids are 422, not 500
        assert (await status_of(create(buyer, **{field: 2**31})))[0] == 422, field
    # A seller cannot open a chat with an arbitrary number: the buyer must be a registered user.
    code, detail = await status_of(create(seller, buyer_id=new_id()))
    assert (code, "not a registered user" in detail) == (422, True)
    known = await world.user("Известный", "Покупатель")
    # A seller approaches only a buyer whose request the listing matched (request.matched).
    code, detail = await status_of(create(seller, buyer_id=known))
    assert (code, "matches" in detail) == (403, True)
    await world.match(buyer_id=known, seller_id=seller, property_id=listing)
    assert (await status_of(create(seller, buyer_id=known)))[0] == 201
    await world.delete_user(known)
    code, detail = await status_of(create(seller, buyer_id=known, property_id=await world.listing(seller)))
    assert (code, "no longer exists" in detail) == (422, True)
    # The buyer's own token proves the buyer: a buyer not yet known from events can still ask the owner.
    assert (await status_of(create(buyer)))[0] == 201
    anonymous = await client.post("/chat/create_chat", json={"buyer_id": 1, "seller_id": 2, "property_id": 3})
    assert anonymous.status_code == 401


async def test_a_seller_may_approach_a_buyer_they_already_talk_to(
    client: httpx.AsyncClient, tokens: TokenFactory, world: World
) -> None:
    buyer = await world.user("Давний", "Собеседник")
    seller = new_id()
    first, second, stranger_listing = [await world.listing(seller) for _ in range(3)]
    seller_headers = tokens.headers(seller, "realtor")
    opened = await client.post(
        "/chat/create_chat", json={"buyer_id": buyer, "seller_id": seller, "property_id": first}, headers=seller_headers
    )
    assert opened.status_code == 403, opened.text
    await world.match(buyer_id=buyer, seller_id=seller, property_id=first)
    body = {"buyer_id": buyer, "seller_id": seller, "property_id": first}
    assert (await client.post("/chat/create_chat", json=body, headers=seller_headers)).status_code == 201
    # They talk already: the seller may offer another listing without a match of its own.
    offer = await client.post("/chat/create_chat", json=body | {"property_id": second}, headers=seller_headers)
    assert offer.status_code == 201, offer.text
    other_buyer = await world.user("Незнакомый", "Покупатель")
    cold = await client.post(
        "/chat/create_chat",
        json={"buyer_id": other_buyer, "seller_id": seller, "property_id": stranger_listing},
        headers=seller_headers,
    )
    assert cold.status_code == 403


async def test_my_chats_show_names_listing_last_message_and_unread(
    client: httpx.AsyncClient, tokens: TokenFactory, world: World, app: FastAPI
) -> None:
    buyer = await world.user("Анна", "Покупателева")
    seller = await world.user("Пётр", "Риелторов")
    older = await world.listing(seller, title="Дом у реки")
    newer = await world.listing(seller, title="Студия")
    ids = []
    for listing in (older, newer):
        body = {"buyer_id": buyer, "seller_id": seller, "property_id": listing}
        ids.append((await client.post("/chat/create_chat", json=body, headers=tokens.headers(buyer, "user"))).json())
    await send(app, ids[0]["id"], seller, "Здравствуйте!")
    await send(app, ids[0]["id"], seller, "Дом ещё продаётся")
    await send(app, ids[0]["id"], buyer, "Отлично")

    mine = (await client.get("/chat/my_chats", headers=tokens.headers(buyer, "user"))).json()
    assert [chat["id"] for chat in mine] == [ids[0]["id"], ids[1]["id"]]  # the one with a message is newer
    top = mine[0]
    assert top["other_user"] == {"id": seller, "display_name": "Пётр Риелторов"}
    assert top["property"]["title"] == "Дом у реки"
    assert top["property"]["cover_image_url"] == f"/media/listings/{older}.jpg"
    assert top["last_message"]["preview"] == "Отлично"
    assert top["last_message"]["seq"] == 3
    assert top["unread_count"] == 2  # the seller's two; the buyer's own message is not unread
    assert mine[1]["last_message"] is None and mine[1]["unread_count"] == 0

    theirs = (await client.get("/chat/my_chats", headers=tokens.headers(seller, "realtor"))).json()
    assert theirs[0]["other_user"]["display_name"] == "Анна Покупателева"
    assert theirs[0]["unread_count"] == 1


async def test_history_pages_by_sequence(
    client: httpx.AsyncClient, tokens: TokenFactory, world: World, app: FastAPI
) -> None:
    buyer, seller, stranger = new_id(), new_id(), new_id()
    listing = await world.listing(seller)
    body = {"buyer_id": buyer, "seller_id": seller, "property_id": listing}
    chat_id = (await client.post("/chat/create_chat", json=body, headers=tokens.headers(buyer, "user"))).json()["id"]
    for number in range(1, 8):
        await send(app, chat_id, buyer if number % 2 else seller, f"сообщение {number}")
    headers = tokens.headers(seller, "realtor")

    async def page(**params: int) -> tuple[list[int], bool]:
        response = await client.get(f"/chat/chat_messages/{chat_id}/page", params=params, headers=headers)
        assert response.status_code == 200, response.text
        return [message["seq"] for message in response.json()["messages"]], response.json()["has_more"]

    assert await page(limit=3) == ([5, 6, 7], True)
    assert await page(limit=3, before=5) == ([2, 3, 4], True)
    assert await page(limit=3, before=2) == ([1], False)
    assert await page(limit=3, after=4) == ([5, 6, 7], False)
    assert await page(limit=2, after=0) == ([1, 2], True)
    assert await page() == ([1, 2, 3, 4, 5, 6, 7], False)
    full = (await client.get(f"/chat/chat_messages/{chat_id}/page", headers=headers)).json()
    assert full["messages"][0]["content"] == "сообщение 1" and full["last_seq"] == 7

    forbidden = await client.get(f"/chat/chat_messages/{chat_id}", headers=tokens.headers(stranger, "user"))
    assert forbidden.status_code == 403
    missing = await client.get("/chat/chat_messages/999999999", headers=headers)
    assert missing.status_code == 404
    capped = await client.get(f"/chat/chat_messages/{chat_id}", params={"limit": 1000}, headers=headers)
    assert capped.status_code == 422
    # Beyond BIGINT: refused as invalid input, never passed to PostgreSQL (which would fail with a 500).
    too_big = 2**63
    assert (await client.get(f"/chat/chat_messages/{too_big}", headers=headers)).status_code == 422
    for name in ("before", "after"):
        response = await client.get(f"/chat/chat_messages/{chat_id}", params={name: too_big}, headers=headers)
        assert response.status_code == 422, name
        biggest = await client.get(f"/chat/chat_messages/{chat_id}", params={name: too_big - 1}, headers=headers)
        assert biggest.status_code == 200, name
    assert (await client.get(f"/chat/chat_messages/{too_big - 1}", headers=headers)).status_code == 404
    assert (await client.get("/chat/chat_messages/0", headers=headers)).status_code == 422


async def test_history_is_an_array_of_message_records_with_paging_in_headers(
    client: httpx.AsyncClient, tokens: TokenFactory, world: World, app: FastAPI
) -> None:
    """What the original server's clients read: a JSON array of {id, chat_id, sender_id, content, created_at}."""
    buyer, seller = new_id(), new_id()
    listing = await world.listing(seller)
    body = {"buyer_id": buyer, "seller_id": seller, "property_id": listing}
    chat_id = (await client.post("/chat/create_chat", json=body, headers=tokens.headers(buyer, "user"))).json()["id"]
    for number in range(1, 8):
        await send(app, chat_id, buyer if number % 2 else seller, f"сообщение {number}")
    container: ChatContainer = app.state.container
    async with container.runtime.database.read_session() as session:
        chat = await container.chats.participant_chat(session, chat_id, buyer)
    async with container.runtime.database.unit_of_work() as work:
        await container.chats.mark_read(work, chat, buyer, 5)
    path = f"/chat/chat_messages/{chat_id}"

    async def page(url: str, user: int = seller) -> tuple[list[int], dict[str, str], httpx.Response]:
        response = await client.get(url, headers=tokens.headers(user, "user"))
        assert response.status_code == 200, response.text
        links = {
            rel: target for target, rel in re.findall(r'<([^>]*)>; rel="(prev|next)"', response.headers.get("link", ""))
        }
        return [message["seq"] for message in response.json()], links, response

    seqs, links, newest = await page(f"{path}?limit=3")
    assert seqs == [5, 6, 7] and links == {"prev": f"{path}?before=5&limit=3"}
    record = newest.json()[-1]
    assert {"id", "chat_id", "sender_id", "content", "created_at"} <= record.keys()
    assert (record["chat_id"], record["sender_id"], record["content"]) == (chat_id, buyer, "сообщение 7")
    assert record["text"] == record["content"]  # the deprecated name, kept for earlier clients of this API
    assert (newest.headers["x-last-seq"], newest.headers["x-read-seq"], newest.headers["x-other-read-seq"]) == (
        "7",
        "0",
        "5",
    )
    seqs, links, _ = await page(links["prev"])
    assert seqs == [2, 3, 4] and links == {"prev": f"{path}?before=2&limit=3", "next": f"{path}?after=4&limit=3"}
    seqs, links, _ = await page(links["prev"])
    assert seqs == [1] and links == {"next": f"{path}?after=1&limit=3"}
    seqs, links, _ = await page(links["next"])
    assert seqs == [2, 3, 4] and "next" in links
    seqs, links, mine = await page(f"{path}/?after=4", user=buyer)
    assert seqs == [5, 6, 7] and links == {"prev": f"{path}?before=5&limit=50"}
    assert (mine.headers["x-read-seq"], mine.headers["x-other-read-seq"]) == ("5", "0")
    assert (await page(f"{path}?after=7"))[:2] == ([], {})


async def test_late_older_profile_event_does_not_overwrite_a_newer_name(app: FastAPI) -> None:
    container: ChatContainer = app.state.container
    user_id = new_id()
    now = datetime.now(UTC)

    async def apply(first_name: str, occurred_at: datetime, kind: str = "user.updated") -> str:
        event = envelope(kind, user_data(user_id, first_name, "Фамилия"), "auth").model_copy(
            update={"occurred_at": occurred_at}
        )
        async with container.runtime.database.unit_of_work() as work:
            await on_user_profile(work, parse_event(event, UserProfile))
        async with container.runtime.database.sessions() as session:
            user = await session.get(KnownUser, user_id)
            assert user is not None
            return user.first_name

    assert await apply("Первое", now - timedelta(minutes=10), "user.registered") == "Первое"
    assert await apply("Новое", now) == "Новое"
    assert await apply("Старое", now - timedelta(minutes=5)) == "Новое"  # arrived late: ignored
    assert await apply("Ещё новее", now + timedelta(seconds=1)) == "Ещё новее"


async def test_deleted_user_closes_their_chats(
    client: httpx.AsyncClient, tokens: TokenFactory, world: World, app: FastAPI
) -> None:
    buyer = await world.user("Ушедший", "Пользователь")
    seller = new_id()
    listing = await world.listing(seller)
    body = {"buyer_id": buyer, "seller_id": seller, "property_id": listing}
    chat_id = (await client.post("/chat/create_chat", json=body, headers=tokens.headers(buyer, "user"))).json()["id"]
    await send(app, chat_id, buyer, "до свидания")

    await world.delete_user(buyer)

    headers = tokens.headers(seller, "realtor")
    history = await client.get(f"/chat/chat_messages/{chat_id}", headers=headers)
    assert [message["content"] for message in history.json()] == ["до свидания"]
    summary = (await client.get("/chat/my_chats", headers=headers)).json()[0]
    assert summary["closed"] is True
    assert summary["other_user"]["display_name"] == "Удалённый пользователь"
    try:
        await send(app, chat_id, seller, "ответ")
    except Exception as error:
        assert "closed" in str(error)
    else:
        raise AssertionError("a closed chat accepted a message")
    # The deleted user's tokens are refused from now on.
    assert (await client.get("/chat/my_chats", headers=tokens.headers(buyer, "user"))).status_code == 401
    other_listing = await world.listing(seller)
    await world.match(buyer_id=buyer, seller_id=seller, property_id=other_listing)
    again = await client.post(
        "/chat/create_chat", json=body | {"property_id": other_listing}, headers=tokens.headers(seller, "realtor")
    )
    assert again.status_code == 422
