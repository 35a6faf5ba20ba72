"""Users as notifications know them: a deleted user gets nothing more, and their data goes."""

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select

from notifications_service.models import Device, Notification, UnreadMessage
from service_kit.testing import TokenFactory

from .conftest import Events, inbox_of, pushes_settled, register_device
from .fake_push import FakePush


async def test_nothing_for_a_deleted_user(
    client: httpx.AsyncClient, tokens: TokenFactory, app: FastAPI, events: Events, push: FakePush
) -> None:
    leaving, other = await events.user(), await events.user()
    await register_device(client, tokens, leaving, f"leaving-{leaving}")
    chat = await events.chat(other, leaving)
    await events.message(chat, 1, other, leaving)
    await pushes_settled(push, f"leaving-{leaving}", 2)

    await events.delete_user(leaving)
    async with app.state.container.runtime.database.sessions() as session:
        for table in (Notification, Device, UnreadMessage):
            left = await session.scalar(select(func.count()).select_from(table).where(table.user_id == leaving))
            assert left == 0, table.__tablename__
    # Events about them that were still on their way, and any later one, create nothing.
    await events.match(leaving, other)
    await events.message(chat, 2, other, leaving)
    await events.reveal(leaving, other)
    await events.settings(leaving, new_matches=True)  # a late profile event does not bring them back
    await events.match(leaving, other)
    assert await inbox_of(app, leaving) == []
    assert [entry.kind for entry in await inbox_of(app, other)] == ["match", "match"], "the other side still hears"
    await pushes_settled(push, f"leaving-{leaving}", 2)
    assert (await client.get("/notifications", headers=tokens.headers(leaving, "user"))).status_code == 401


async def test_a_user_known_from_no_profile_yet_gets_the_default_settings(app: FastAPI, events: Events) -> None:
    buyer, seller = 1_000_000_001, await events.user()  # the buyer's profile event is still on its way
    await events.match(buyer, seller)
    [entry] = await inbox_of(app, buyer)
    assert (entry.alert, entry.push_status) == (True, "no_devices")
