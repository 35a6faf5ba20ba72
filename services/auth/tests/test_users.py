"""Seed endpoints 1-8 against the real app, database and Redis."""

import asyncio
import io

import httpx
import jwt
from PIL import Image

from auth_service.settings import AuthSettings

from .conftest import Users


def local_form(phone: str) -> str:
    """The same number as typed in Russia: 8 (925) 123-45-67."""
    digits = phone.removeprefix("+7")
    return f"8 ({digits[:3]}) {digits[3:6]}-{digits[6:8]}-{digits[8:]}"


async def test_seed_flow_register_activate_token_me(client: httpx.AsyncClient, phone: str) -> None:
    response = await client.post(
        "/users/register/", json={"phone": phone, "first_name": "Иван", "last_name": "Иванов", "role": "realtor"}
    )
    assert response.status_code == 201
    body = response.json()
    assert body["message"] == "User created successfully"
    assert body["code"].isdigit() and len(body["code"]) == 6

    activated = await client.post("/users/activate/", json={"phone": phone, "activation_code": body["code"]})
    assert activated.json() == {"message": "User activated successfully"}

    token = await client.post("/users/token", json={"phone": phone, "activation_code": body["code"]})
    assert token.status_code == 200
    assert token.json()["token_type"] == "bearer"

    me = await client.get("/users/me/", headers={"Authorization": f"Bearer {token.json()['access_token']}"})
    assert me.status_code == 200
    assert me.json()["phone"] == phone
    assert me.json()["role"] == "Риелтор"
    assert me.json()["role_code"] == "realtor"
    assert me.json()["first_name"] == "Иван"
    assert me.json()["is_active"] is True


async def test_token_is_eddsa_with_kid_exp_iat_and_matches_jwks(
    client: httpx.AsyncClient, users: Users, phone: str
) -> None:
    headers = await users.login(phone)
    token = headers["Authorization"].removeprefix("Bearer ")
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "EdDSA"
    jwks = (await client.get("/.well-known/jwks.json")).json()
    key = next(k for k in jwks["keys"] if k["kid"] == header["kid"])
    claims = jwt.decode(token, jwt.PyJWK(key), algorithms=["EdDSA"], audience="marketplace")
    assert {"exp", "iat", "sub", "role"} <= claims.keys()
    assert claims["role"] == "realtor"


async def test_code_is_single_use_for_token(client: httpx.AsyncClient, users: Users, phone: str) -> None:
    code = await users.register(phone)
    first = await client.post("/users/token", json={"phone": phone, "activation_code": code})
    again = await client.post("/users/token", json={"phone": phone, "activation_code": code})
    assert first.status_code == 200
    assert again.status_code == 400


async def test_phone_forms_are_one_user(client: httpx.AsyncClient, users: Users, phone: str) -> None:
    code = await users.register(phone)
    digits_only = phone.removeprefix("+")
    for variant in (local_form(phone), digits_only, "8" + phone.removeprefix("+7")):
        response = await client.post("/users/activate", json={"phone": variant, "activation_code": code})
        assert response.status_code == 200, variant
    token = await client.post("/users/token", json={"phone": digits_only, "activation_code": code})
    me = await client.get("/users/me", headers={"Authorization": f"Bearer {token.json()['access_token']}"})
    assert me.json()["phone"] == phone
    again = await client.post(
        "/users/register", json={"phone": local_form(phone), "first_name": "B", "last_name": "C", "role": "user"}
    )
    assert again.status_code == 429  # the same phone, so the same cooldown


async def test_unknown_phone_and_wrong_code_answer_alike(client: httpx.AsyncClient, users: Users, phone: str) -> None:
    code = await users.register(phone)
    wrong = "000000" if code != "000000" else "111111"
    known = await client.post("/users/activate", json={"phone": phone, "activation_code": wrong})
    unknown = await client.post("/users/activate", json={"phone": "+79991112233", "activation_code": wrong})
    assert known.status_code == unknown.status_code == 400
    assert known.json() == unknown.json()
    token_unknown = await client.post("/users/token", json={"phone": "+79991112233", "activation_code": wrong})
    assert token_unknown.json() == known.json()
    reset_unknown = await client.post("/users/reset", json={"phone": "+79991112244"})
    reset_known = await client.post("/users/reset", json={"phone": phone})
    assert reset_unknown.status_code == 200
    assert reset_known.status_code in (200, 429)  # register above started the known phone's cooldown


async def test_five_wrong_codes_kill_the_code(client: httpx.AsyncClient, users: Users, phone: str) -> None:
    code = await users.register(phone)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(5):
        response = await client.post("/users/activate", json={"phone": phone, "activation_code": wrong})
        assert response.status_code == 400
    right_too_late = await client.post("/users/token", json={"phone": phone, "activation_code": code})
    assert right_too_late.status_code == 400


async def test_resend_cooldown_gives_429_with_retry_after(client: httpx.AsyncClient, users: Users, phone: str) -> None:
    await users.register(phone)
    response = await client.post("/users/reset", json={"phone": phone})
    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert "try again" in response.json()["detail"]


async def test_daily_cap_per_ip(client: httpx.AsyncClient, settings: AuthSettings) -> None:
    for number in range(settings.code_daily_cap_per_ip):
        response = await client.post("/users/reset", json={"phone": f"+7926{number:07d}"})
        assert response.status_code == 200, response.text
    over = await client.post("/users/reset", json={"phone": "+79261234567"})
    assert over.status_code == 429
    assert "Daily limit" in over.json()["detail"]


async def test_reset_gives_a_new_code_that_logs_in(client: httpx.AsyncClient, users: Users, phone: str) -> None:
    await users.login(phone)
    await users.end_cooldown(phone)
    reset = await client.post("/users/reset/", json={"phone": phone})
    assert reset.status_code == 200
    assert reset.json()["message"] == "New activation code set"
    token = await client.post("/users/token", json={"phone": phone, "activation_code": reset.json()["code"]})
    assert token.status_code == 200


async def test_update_stores_every_field_and_strips_exif(
    client: httpx.AsyncClient, users: Users, phone: str, exif_jpeg: bytes
) -> None:
    headers = await users.login(phone)
    fields = {
        "phone": phone,
        "first_name": "Иван",
        "last_name": "Петров",
        "middle_name": "Сергеевич",
        "sex": "male",
        "city": "Москва",
        "email": "ivan@example.com",
        "user_type": "private",
        "whatsapp": "+79250000000",
        "telegram": "@ivan",
        "viber": "+79250000000",
        "zoom": "ivan.zoom",
        "prop_city": "Сочи",
        "prop_offer": "sale",
        "prop_type": "apartment",
        "prop_state": "new",
        "about": "Опытный риелтор",
        "notifications_all_messages": "false",
        "notifications_new_matches": "true",
        "notifications_responses": "false",
        "notifications_contacts": "true",
        "notifications_news": "true",
    }
    files = {"avatar": ("avatar.jpg", exif_jpeg, "image/jpeg"), "licenses": ("license.jpg", exif_jpeg, "image/jpeg")}
    response = await client.put("/users/update/", data=fields, files=files, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["message"] == "User updated successfully"
    me = (await client.get("/users/me", headers=headers)).json()
    for name, value in fields.items():
        if name.startswith("notifications_"):
            assert me[name] == (value == "true"), name
        else:
            assert me[name] == value, name
    avatar = await client.get(me["avatar_url"])
    assert avatar.status_code == 200
    assert avatar.headers["content-type"] == "image/jpeg"
    assert avatar.headers["x-content-type-options"] == "nosniff"
    served = Image.open(io.BytesIO(avatar.content))
    assert served.size == (64, 48)
    assert not served.getexif()
    assert b"SpyCam" not in avatar.content


async def test_update_refuses_non_images_and_huge_files(
    client: httpx.AsyncClient, users: Users, phone: str, settings: AuthSettings
) -> None:
    headers = await users.login(phone)
    exe = b"MZ\x90\x00" + b"\x00" * 2000
    fake = await client.put(
        "/users/update", data={"phone": phone}, files={"avatar": ("a.jpg", exe, "image/jpeg")}, headers=headers
    )
    assert fake.status_code == 422
    # Like every 422: FastAPI's list of field errors, with the stable code.
    ((problem,), code) = fake.json()["detail"], fake.json()["code"]
    assert (problem["loc"], problem["type"], code) == (["body", "avatar"], "value_error", "validation_error")
    assert "not a readable JPEG" in problem["msg"]
    huge = await client.put(
        "/users/update",
        data={"phone": phone},
        files={"avatar": ("a.jpg", b"\xff" * (settings.max_image_bytes + 1), "image/jpeg")},
        headers=headers,
    )
    assert huge.status_code == 413
    me = (await client.get("/users/me", headers=headers)).json()
    assert me["avatar_url"] is None


async def test_update_and_delete_only_own_account(
    client: httpx.AsyncClient, users: Users, phone: str, another_phone: str
) -> None:
    mine = await users.login(phone)
    await users.login(another_phone)
    update = await client.put("/users/update", data={"phone": another_phone, "first_name": "X"}, headers=mine)
    assert update.status_code == 403
    delete = await client.request("DELETE", "/users/delete", json={"phone": another_phone}, headers=mine)
    assert delete.status_code == 403


async def test_deleted_user_token_is_refused_at_once(client: httpx.AsyncClient, users: Users, phone: str) -> None:
    headers = await users.login(phone)
    deleted = await client.request("DELETE", "/users/delete/", json={"phone": local_form(phone)}, headers=headers)
    assert deleted.json() == {"message": "User deleted successfully"}
    after = await client.get("/users/me", headers=headers)
    assert after.status_code == 401


async def test_list_needs_token_and_caps_limit(client: httpx.AsyncClient, users: Users, phone: str) -> None:
    assert (await client.get("/users/list")).status_code == 401
    headers = await users.login(phone)
    for number in range(3):
        await users.register(f"+7927{number:07d}")
    response = await client.get("/users/list/?skip=0&limit=100000", headers=headers)
    assert response.status_code == 200
    assert 1 <= len(response.json()) <= 100
    assert {"id", "first_name", "last_name", "phone", "role"} <= response.json()[0].keys()
    page = await client.get("/users/list?skip=0&limit=2", headers=headers)
    assert len(page.json()) == 2


async def test_garbage_input_gets_clear_4xx(client: httpx.AsyncClient, users: Users, phone: str) -> None:
    cases = [
        ("/users/register", {"phone": phone, "first_name": "A", "last_name": "B", "role": "admin"}, "role"),
        ("/users/register", {"phone": "not a phone", "first_name": "A", "last_name": "B", "role": "user"}, "phone"),
        ("/users/register", {"phone": phone, "first_name": "A"}, "last_name"),
        ("/users/register", {"phone": 79251234567, "first_name": ["x"], "last_name": "B", "role": "user"}, "phone"),
        ("/users/activate", {"phone": phone, "activation_code": "12ab"}, "activation_code"),
        ("/users/token", {"phone": phone}, "activation_code"),
    ]
    for path, body, field in cases:
        response = await client.post(path, json=body)
        assert response.status_code == 422, (path, body, response.text)
        assert field in response.text, (path, body, response.text)
    malformed = await client.post("/users/register", content=b"{not json", headers={"Content-Type": "application/json"})
    assert malformed.status_code == 422
    headers = await users.login(phone)
    bad_bool = await client.put("/users/update", data={"phone": phone, "notifications_news": "maybe"}, headers=headers)
    assert bad_bool.status_code == 422
    assert "notifications_news" in bad_bool.text
    no_phone = await client.put("/users/update", data={"first_name": "X"}, headers=headers)
    assert no_phone.status_code == 422
    bad_skip = await client.get("/users/list?skip=-1", headers=headers)
    assert bad_skip.status_code == 422


async def test_forged_or_foreign_tokens_are_refused(client: httpx.AsyncClient, users: Users, phone: str) -> None:
    headers = await users.login(phone)
    token = headers["Authorization"].removeprefix("Bearer ")
    header, payload, signature = token.split(".")
    forged = f"{header}.{payload}.{signature[:-4]}AAAA"
    hs256 = jwt.encode(
        {"sub": "1", "role": "agency", "exp": 9999999999}, "a-guessed-secret-of-thirty-two-bytes!", algorithm="HS256"
    )
    none_alg = f"{header.replace(header, 'eyJhbGciOiJub25lIn0')}.{payload}."
    for bad in (forged, hs256, none_alg, "garbage"):
        response = await client.get("/users/me", headers={"Authorization": f"Bearer {bad}"})
        assert response.status_code == 401, bad


async def test_text_the_database_cannot_store_is_refused_up_front(
    client: httpx.AsyncClient, users: Users, phone: str, another_phone: str
) -> None:
    body = {"phone": phone, "first_name": "a\u0000b", "last_name": "B", "role": "user"}
    response = await client.post("/users/register", json=body)
    assert response.status_code == 422
    assert "first_name" in response.text
    # Nothing was spent: the phone can register at once.
    await users.register(phone)
    headers = await users.login(another_phone)
    for field, value in [("sex", "x" * 21), ("user_type", "x" * 51), ("about", "a\u0000")]:
        refused = await client.put("/users/update", data={"phone": another_phone, field: value}, headers=headers)
        assert refused.status_code == 422, (field, refused.text)
        assert field in refused.text


async def test_concurrent_update_and_delete_of_one_account_never_fail(
    client: httpx.AsyncClient, users: Users, phone: str
) -> None:
    headers = await users.login(phone)
    calls = [
        client.put("/users/update", data={"phone": phone, "city": "Тверь"}, headers=headers),
        client.request("DELETE", "/users/delete", json={"phone": phone}, headers=headers),
        client.request("DELETE", "/users/delete", json={"phone": phone}, headers=headers),
        client.put("/users/update", data={"phone": phone, "city": "Омск"}, headers=headers),
    ]
    statuses = sorted(response.status_code for response in await asyncio.gather(*calls))
    assert statuses.count(200) >= 1 and all(status in (200, 401) for status in statuses), statuses
    assert (await client.get("/users/me", headers=headers)).status_code == 401


async def test_the_list_shows_only_activated_accounts(
    client: httpx.AsyncClient, users: Users, phone: str, another_phone: str
) -> None:
    headers = await users.login(phone)
    await users.register(another_phone)  # never confirmed
    listed = (await client.get("/users/list?limit=100", headers=headers)).json()
    phones = {user["phone"] for user in listed}
    assert phone in phones
    assert another_phone not in phones


async def test_a_network_over_its_cap_cannot_spend_other_phones_limits(
    client: httpx.AsyncClient, users: Users, settings: AuthSettings, phone: str
) -> None:
    for number in range(settings.code_daily_cap_per_ip):
        assert (await client.post("/users/reset", json={"phone": f"+7929{number:07d}"})).status_code == 200
    assert (await client.post("/users/reset", json={"phone": phone})).status_code == 429
    # The victim, from another network, is not on a cooldown the attacker started.
    other_network = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=client._transport.app, client=("10.9.9.9", 1)),  # type: ignore[attr-defined]
        base_url="http://auth",
    )
    async with other_network:
        body = {"phone": phone, "first_name": "A", "last_name": "B", "role": "user"}
        assert (await other_network.post("/users/register", json=body)).status_code == 201


async def test_only_sms_capable_numbers_of_served_countries_register(client: httpx.AsyncClient) -> None:
    for raw, complaint in [
        ("+1 650 253 0000", "not served"),
        ("+7 495 123-45-67", "mobile"),
        ("+7 925 123-45-67 ext 123", "not a valid"),
    ]:
        body = {"phone": raw, "first_name": "A", "last_name": "B", "role": "user"}
        response = await client.post("/users/register", json=body)
        assert response.status_code == 422, raw
        (problem,) = response.json()["detail"]
        assert problem["loc"] == ["body", "phone"] and complaint in problem["msg"], raw
