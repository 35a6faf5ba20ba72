"""The gateway's forward-auth verifier, driven the way Traefik calls it."""

import asyncio
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_lifespan import LifespanManager

from auth_service.settings import AuthSettings, VerifierSettings
from auth_service.verifier import create_verifier_app

from .conftest import Users


def verifier_settings(settings: AuthSettings) -> VerifierSettings:
    """The verifier's share of the auth settings: no private key, no secrets."""
    return VerifierSettings(**settings.model_dump(include=set(VerifierSettings.model_fields)))


@pytest.fixture
async def verifier(settings: AuthSettings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_verifier_app(verifier_settings(settings))
    async with LifespanManager(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://verifier") as http:
            yield http


async def test_valid_bearer_token_gives_identity_headers(verifier: httpx.AsyncClient, users: Users, phone: str) -> None:
    headers = await users.login(phone, role="agency")
    response = await verifier.get("/verify", headers=headers | {"X-Forwarded-Uri": "/users/me"})
    assert response.status_code == 200
    assert response.headers["x-user-role"] == "agency"
    assert int(response.headers["x-user-id"]) > 0


async def test_missing_or_bad_tokens_are_401(verifier: httpx.AsyncClient) -> None:
    assert (await verifier.get("/verify")).status_code == 401
    bad = await verifier.post("/verify", headers={"Authorization": "Bearer not.a.token"})
    assert bad.status_code == 401
    assert "detail" in bad.json()
    assert bad.headers["www-authenticate"] == "Bearer"


async def test_optional_mode_lets_anonymous_through_without_identity(verifier: httpx.AsyncClient) -> None:
    anonymous = await verifier.get("/verify/optional")
    assert anonymous.status_code == 200
    assert "x-user-id" not in anonymous.headers
    bad = await verifier.get("/verify/optional", headers={"Authorization": "Bearer forged"})
    assert bad.status_code == 401


async def test_query_token_only_for_the_sockets(verifier: httpx.AsyncClient, users: Users, phone: str) -> None:
    token = (await users.login(phone))["Authorization"].removeprefix("Bearer ")
    for path in ("/chat/ws/7", "/chat/ws/7/", "/notifications/ws", "/notifications/ws/"):
        socket = await verifier.get("/verify", headers={"X-Forwarded-Uri": f"{path}?token={token}"})
        assert socket.status_code == 200, path
    for path in ("/users/me", "/notifications", "/notifications/wsx", "/chat/my_chats"):
        elsewhere = await verifier.get("/verify", headers={"X-Forwarded-Uri": f"{path}?token={token}"})
        assert elsewhere.status_code == 401, path


async def test_deleted_user_is_refused_by_a_running_verifier(
    verifier: httpx.AsyncClient, client: httpx.AsyncClient, users: Users, phone: str
) -> None:
    headers = await users.login(phone)
    assert (await verifier.get("/verify", headers=headers)).status_code == 200  # now cached
    await client.request("DELETE", "/users/delete", json={"phone": phone}, headers=headers)
    deadline = time.monotonic() + 1.0
    status = 200
    while status == 200 and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
        status = (await verifier.get("/verify", headers=headers)).status_code
    assert status == 401


async def test_revocations_are_rebuilt_from_postgresql_on_start(
    settings: AuthSettings, client: httpx.AsyncClient, users: Users, phone: str
) -> None:
    headers = await users.login(phone)
    await client.request("DELETE", "/users/delete", json={"phone": phone}, headers=headers)
    # Another namespace: its Redis has never heard of the deletion.
    fresh = create_verifier_app(
        verifier_settings(settings).model_copy(update={"namespace": settings.namespace + "-fresh"})
    )
    async with LifespanManager(fresh):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fresh), base_url="http://v") as verifier:
            assert (await verifier.get("/verify", headers=headers)).status_code == 401


async def test_health_and_ready(verifier: httpx.AsyncClient) -> None:
    assert (await verifier.get("/health")).status_code == 200
    deadline = time.monotonic() + 3
    while (await verifier.get("/ready")).status_code != 200 and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert (await verifier.get("/ready")).status_code == 200


async def test_ambiguous_socket_credentials_are_refused(verifier: httpx.AsyncClient, users: Users, phone: str) -> None:
    headers = await users.login(phone)
    token = headers["Authorization"].removeprefix("Bearer ")
    two_tokens = await verifier.get("/verify", headers={"X-Forwarded-Uri": f"/chat/ws/1?token={token}&token=other"})
    assert two_tokens.status_code == 401
    header_and_other_query = await verifier.get("/verify", headers=headers | {"X-Forwarded-Uri": "/chat/ws/1?token=x"})
    assert header_and_other_query.status_code == 401
    same_in_both = await verifier.get("/verify", headers=headers | {"X-Forwarded-Uri": f"/chat/ws/1?token={token}"})
    assert same_in_both.status_code == 200
