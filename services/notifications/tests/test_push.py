"""Push providers against local fakes that check payload and auth, and the push worker's decisions."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from notifications_service.domain.fcm import FcmProvider, InvalidCredentials, ServiceAccount
from notifications_service.domain.push import ConsolePushProvider, Outcome, PushMessage
from notifications_service.domain.rustore import RuStoreProvider
from notifications_service.models import Device, PushDelivery
from notifications_service.push_worker import PushWorker
from service_kit.testing import TokenFactory, envelope

from .conftest import Events, inbox_of, new_id, now, pushes_settled, register_device, wait_for
from .fake_push import FCM_PROJECT, RUSTORE_PROJECT, RUSTORE_TOKEN, FakePush

MESSAGE = PushMessage(
    title="Новый объект по вашей заявке",
    body="Двушка у парка — Казань",
    data={"kind": "match", "notification_id": "7", "property_id": "11"},
    collapse_key="notification:7",
    ttl_seconds=3600,
)


async def test_fcm_signs_in_with_the_service_account_and_sends_v1_messages(push: FakePush, tmp_path: Path) -> None:
    provider = FcmProvider(ServiceAccount.from_file(push.credentials(tmp_path)), push.url)
    try:
        assert (await provider.send("device-a", MESSAGE)).outcome is Outcome.DELIVERED
        assert (await provider.send("device-b", MESSAGE)).outcome is Outcome.DELIVERED
    finally:
        await provider.close()
    assert push.refused == []
    assert push.token_requests == 1, "the access token is cached until it expires"
    [sent] = push.to("device-a")
    assert sent.provider == "fcm"
    assert sent.message == {
        "token": "device-a",
        "notification": {"title": MESSAGE.title, "body": MESSAGE.body},
        "data": MESSAGE.data,
        "android": {
            "collapse_key": "notification:7",
            "ttl": "3600s",
            "priority": "high",
            "notification": {"tag": "notification:7"},
        },
        "apns": {
            "headers": {"apns-collapse-id": "notification:7"},
            "payload": {"aps": {"thread-id": "notification:7"}},
        },
    }


async def test_fcm_fetches_a_new_access_token_when_one_is_refused(push: FakePush, tmp_path: Path) -> None:
    provider = FcmProvider(ServiceAccount.from_file(push.credentials(tmp_path)), push.url)
    try:
        await provider.send("device-a", MESSAGE)
        push.issued.clear()  # the fake forgets its tokens, as Google does with a revoked one
        assert (await provider.send("device-b", MESSAGE)).outcome is Outcome.DELIVERED
    finally:
        await provider.close()
    assert push.token_requests == 2
    assert len(push.to("device-b")) == 1


async def test_fcm_outcomes_of_dead_invalid_busy_and_unreachable(push: FakePush, tmp_path: Path) -> None:
    account = ServiceAccount.from_file(push.credentials(tmp_path))
    provider = FcmProvider(account, push.url)
    unreachable = FcmProvider(account, "http://127.0.0.1:1")
    try:
        assert (await provider.send("dead-1", MESSAGE)).outcome is Outcome.UNREGISTERED
        assert (await provider.send("bad-1", MESSAGE)).outcome is Outcome.UNREGISTERED
        busy = await provider.send("busy-1", MESSAGE)
        assert (busy.outcome, busy.retry_after) == (Outcome.RETRY, 120.0)
        assert (await unreachable.send("device-a", MESSAGE)).outcome is Outcome.RETRY
    finally:
        await provider.close()
        await unreachable.close()
    broken = tmp_path / "broken.json"
    broken.write_text('{"project_id": "p"}')
    with pytest.raises(InvalidCredentials):
        ServiceAccount.from_file(broken)


async def test_rustore_sends_with_its_service_token(push: FakePush) -> None:
    provider = RuStoreProvider(RUSTORE_PROJECT, RUSTORE_TOKEN, push.url)
    wrong = RuStoreProvider(RUSTORE_PROJECT, "not-the-token", push.url)
    try:
        assert (await provider.send("rustore-a", MESSAGE)).outcome is Outcome.DELIVERED
        assert (await provider.send("dead-2", MESSAGE)).outcome is Outcome.UNREGISTERED
        assert (await wrong.send("rustore-b", MESSAGE)).outcome is Outcome.RETRY, "fixed config loses nothing"
    finally:
        await provider.close()
        await wrong.close()
    [sent] = push.to("rustore-a")
    assert sent.provider == "rustore"
    assert sent.message == {
        "token": "rustore-a",
        "notification": {"title": MESSAGE.title, "body": MESSAGE.body},
        "data": MESSAGE.data,
        "android": {"ttl": "3600s", "notification": {"title": MESSAGE.title, "body": MESSAGE.body}},
    }
    assert push.refused == ["rustore: bad Authorization header"]
    assert FCM_PROJECT not in sent.message.values()


async def test_the_console_provider_prints_instead_of_sending(capsys: pytest.CaptureFixture[str]) -> None:
    provider = ConsolePushProvider(frozenset({"fcm"}))
    assert (await provider.send("token-12345678", MESSAGE)).outcome is Outcome.DELIVERED
    assert "Новый объект по вашей заявке: Двушка у парка" in capsys.readouterr().out


async def test_a_device_the_provider_no_longer_knows_is_removed(
    client: httpx.AsyncClient, tokens: TokenFactory, app: FastAPI, events: Events, push: FakePush
) -> None:
    buyer, seller = await events.user(), await events.user()
    alive = await register_device(client, tokens, buyer, f"alive-{buyer}")
    await register_device(client, tokens, buyer, f"dead-{buyer}")
    await register_device(client, tokens, buyer, f"bad-{buyer}")
    await register_device(client, tokens, buyer, f"dead-{buyer}", platform="rustore")
    await events.match(buyer, seller)
    await pushes_settled(push, f"alive-{buyer}", 1)

    async def only_the_live_one_left() -> bool:
        listed = (await client.get("/notifications/devices", headers=tokens.headers(buyer, "user"))).json()
        return [device["id"] for device in listed] == [alive]

    await wait_for(only_the_live_one_left, what="dead devices removed")
    [notification] = await inbox_of(app, buyer)
    assert notification.push_status == "sent"


async def test_a_busy_provider_is_retried_later_as_it_asks(
    client: httpx.AsyncClient, tokens: TokenFactory, app: FastAPI, events: Events
) -> None:
    buyer, seller = await events.user(), await events.user()
    await register_device(client, tokens, buyer, f"busy-{buyer}")
    await events.match(buyer, seller)

    async def retried() -> bool:
        async with app.state.container.runtime.database.sessions() as session:
            delivery = (await session.scalars(select(PushDelivery).where(PushDelivery.user_id == buyer))).one()
        return delivery.attempts == 1

    await wait_for(retried, what="a first attempt")
    async with app.state.container.runtime.database.sessions() as session:
        delivery = (await session.scalars(select(PushDelivery).where(PushDelivery.user_id == buyer))).one()
    assert delivery.status == "pending"
    assert delivery.next_attempt_at >= datetime.now(UTC) + timedelta(seconds=100), "Retry-After: 120 is honoured"
    assert (await inbox_of(app, buyer))[0].push_status == "queued"


async def test_a_setting_turned_off_stops_a_push_already_waiting(
    client: httpx.AsyncClient,
    tokens: TokenFactory,
    app: FastAPI,
    events: Events,
    push: FakePush,
    held_pushes: PushWorker,
) -> None:
    buyer, seller = await events.user(), await events.user()
    await register_device(client, tokens, buyer, f"waiting-{buyer}")
    await events.match(buyer, seller)  # decided (queued), not sent yet
    assert (await inbox_of(app, buyer))[0].push_status == "queued"
    await events.settings(buyer, new_matches=False)
    assert await held_pushes.send_due() >= 1
    await pushes_settled(push, f"waiting-{buyer}", 0)
    assert (await inbox_of(app, buyer))[0].push_status == "off"


async def test_old_events_are_kept_but_not_pushed(
    client: httpx.AsyncClient, tokens: TokenFactory, app: FastAPI, events: Events, push: FakePush
) -> None:
    buyer, seller = await events.user(), await events.user()
    await register_device(client, tokens, buyer, f"late-{buyer}")
    data = {
        "request_id": new_id(),
        "buyer_id": buyer,
        "property_id": new_id(),
        "seller_id": seller,
        "matched_at": now(),
    }
    late = envelope("request.matched", data, "requests")
    # Delivered after a long outage: two hours after it happened.
    await events.publish(late.model_copy(update={"occurred_at": late.occurred_at - timedelta(hours=2)}))
    [kept] = await inbox_of(app, buyer)
    assert (kept.kind, kept.push_status) == ("match", "stale")
    await pushes_settled(push, f"late-{buyer}", 0)


async def test_devices_of_platforms_no_provider_serves_get_no_push(
    client: httpx.AsyncClient, tokens: TokenFactory, app: FastAPI, events: Events
) -> None:
    buyer, seller = await events.user(), await events.user()
    await register_device(client, tokens, buyer, f"ios-{buyer}", platform="apns")
    await events.match(buyer, seller)
    [notification] = await inbox_of(app, buyer)
    assert notification.push_status == "no_devices"
    async with app.state.container.runtime.database.sessions() as session:
        assert (await session.scalars(select(Device).where(Device.user_id == buyer))).one().platform == "apns"
