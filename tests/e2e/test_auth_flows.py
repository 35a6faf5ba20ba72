"""Seed endpoints 1-8 through the real gateway, as a client calls them."""

import io

import httpx
import pytest
from PIL import Image

from .conftest import Client
from .stack import Stack, free_port


def test_seed_examples_1_to_8(gateway: httpx.Client, phone: str) -> None:
    registered = gateway.post(
        "/users/register/", json={"phone": phone, "first_name": "Иван", "last_name": "Иванов", "role": "realtor"}
    )
    assert registered.status_code == 201
    assert registered.json()["message"] == "User created successfully"
    code = registered.json()["code"]

    activated = gateway.post("/users/activate/", json={"phone": phone, "activation_code": code})
    assert activated.json() == {"message": "User activated successfully"}

    token = gateway.post("/users/token", json={"phone": phone, "activation_code": code})
    assert token.json()["token_type"] == "bearer"
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}

    me = gateway.get("/users/me/", headers=headers).json()
    assert (me["first_name"], me["last_name"], me["phone"], me["role"]) == ("Иван", "Иванов", phone, "Риелтор")

    avatar = io.BytesIO()
    Image.new("RGB", (32, 32), (0, 128, 255)).save(avatar, format="JPEG")
    updated = gateway.put(
        "/users/update/",
        data={"phone": phone, "first_name": "Иван", "last_name": "Петров"},
        files={"avatar": ("avatar.jpg", avatar.getvalue(), "image/jpeg")},
        headers=headers,
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["message"] == "User updated successfully"
    assert updated.json()["user"]["last_name"] == "Петров"
    user = updated.json()["user"]
    assert user["avatar"] == user["avatar_url"] and user["licenses"] is None  # avatar_url: deprecated alias
    image = gateway.get(user["avatar"])
    assert image.status_code == 200
    assert image.headers["content-type"] == "image/jpeg"

    listed = gateway.get("/users/list/", params={"skip": 0, "limit": 10}, headers=headers)
    assert listed.status_code == 200
    assert {"id", "first_name", "last_name", "phone", "role"} <= listed.json()[0].keys()

    deleted = gateway.request("DELETE", "/users/delete/", json={"phone": phone}, headers=headers)
    assert deleted.json() == {"message": "User deleted successfully"}
    assert gateway.get("/users/me", headers=headers).status_code == 401


def test_reset_logs_a_returning_user_in_and_is_rate_limited(gateway: httpx.Client, app_client: Client) -> None:
    phone = "+79160000001"
    app_client.register(phone)
    too_soon = gateway.post("/users/reset/", json={"phone": phone})
    assert too_soon.status_code == 429
    assert int(too_soon.headers["Retry-After"]) > 0


def test_brute_force_kills_the_code(gateway: httpx.Client, app_client: Client, phone: str) -> None:
    code = app_client.register(phone)
    wrong = f"{(int(code) + 7) % 1_000_000:06d}"
    for _ in range(5):
        assert gateway.post("/users/activate", json={"phone": phone, "activation_code": wrong}).status_code == 400
    sixth = gateway.post("/users/token", json={"phone": phone, "activation_code": code})
    assert sixth.status_code == 400


def test_client_sent_identity_headers_change_nothing(gateway: httpx.Client, app_client: Client, phone: str) -> None:
    headers = app_client.login(phone)
    me = gateway.get("/users/me", headers=headers).json()
    spoofed = gateway.get(
        "/users/me", headers=headers | {"X-User-Id": str(me["id"] + 1), "X-User-Role": "agency", "X_User_Id": "1"}
    )
    assert spoofed.json()["id"] == me["id"]
    anonymous = gateway.get("/users/me", headers={"X-User-Id": str(me["id"]), "X-User-Role": "realtor"})
    assert anonymous.status_code == 401


def test_jwks_and_docs_are_public(gateway: httpx.Client) -> None:
    jwks = gateway.get("/.well-known/jwks.json")
    assert jwks.status_code == 200
    assert jwks.json()["keys"][0]["alg"] == "EdDSA"
    assert gateway.get("/docs/auth").status_code == 200
    assert "/users/register" in gateway.get("/openapi/auth.json").json()["paths"]


def test_garbage_gets_4xx_never_500(gateway: httpx.Client, app_client: Client, phone: str) -> None:
    bodies = [
        b"{not json",
        b"[]",
        b'{"phone": null}',
        b'{"phone": "+7", "first_name": "A", "last_name": "B", "role": "user"}',
        b'{"phone": "+79161234567", "first_name": "A", "last_name": "B", "role": "king"}',
        b'{"phone": "+79161234567", "first_name": "' + b"A" * 5000 + b'", "last_name": "B", "role": "user"}',
    ]
    for body in bodies:
        response = gateway.post("/users/register", content=body, headers={"Content-Type": "application/json"})
        assert 400 <= response.status_code < 500, (body[:60], response.status_code)
        assert "detail" in response.json()
    huge = gateway.post("/users/register", content=b"{" + b" " * (2 * 1024 * 1024) + b"}")
    assert huge.status_code == 413
    headers = app_client.login(phone)
    not_image = gateway.put(
        "/users/update",
        data={"phone": phone},
        files={"avatar": ("a.png", b"%PDF-1.4 nope", "image/png")},
        headers=headers,
    )
    assert not_image.status_code == 422
    (problem,) = not_image.json()["detail"]
    assert (problem["loc"], not_image.json()["code"]) == (["body", "avatar"], "validation_error")


@pytest.mark.local_stack
def test_with_auth_stopped_protected_routes_fail_closed(stack: Stack, app_client: Client, phone: str) -> None:
    headers = app_client.login(phone)
    # The same gateway (same honcho, Procfile and routes) with the auth processes gone.
    no_auth = stack.variant(
        GATEWAY_PORT=str(free_port()),
        GATEWAY_ADMIN_PORT=str(free_port()),
        AUTH_URL="http://127.0.0.1:9",
        AUTH_VERIFIER_URL="http://127.0.0.1:9",
    )
    try:
        # /ping answers before the routes are loaded; the merged docs answer once they are.
        no_auth.start("gateway", wait_for=(no_auth.service_url("GATEWAY_PORT", "/openapi.json"),))
        with httpx.Client(base_url=no_auth.gateway, timeout=10) as gateway:
            for method, path in [("GET", "/users/me"), ("GET", "/users/list"), ("PUT", "/users/update")]:
                for sent in (headers, {}):
                    answer = gateway.request(method, path, headers=sent)
                    assert answer.status_code in (401, 503), (method, path, answer.status_code, answer.text)
    finally:
        no_auth.close()
