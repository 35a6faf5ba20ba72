"""Seed endpoints 11 and 12 and the buyer's own requests: values, ranges, roles, ownership."""

from typing import Any

import httpx
import pytest

from service_kit.testing import TokenFactory

from .conftest import SEED_REQUEST, Events, new_id

SEED_CODES = {
    "deal_format": "sale",
    "type": "apartment",
    "subtype": "apartments",
    "condition": "new",
    "currency": "RUB",
    "purchase_purpose": "residence",
    "urgency": "urgent",
    "purchase_method": "mortgage",
    "total_rooms": "2",
}


async def test_seed_example_is_stored_with_canonical_codes(
    client: httpx.AsyncClient, tokens: TokenFactory, events: Events
) -> None:
    buyer = new_id()
    created = await client.post("/users/create_request", json=SEED_REQUEST, headers=tokens.headers(buyer, "user"))
    assert created.status_code == 201, created.text
    body = created.json()
    assert {key: body[key] for key in SEED_CODES} == SEED_CODES
    assert (body["city"], body["district"], body["buyer_id"], body["status"]) == (
        "Москва",
        "Центральный",
        buyer,
        "open",
    )
    assert (body["budget_min"], body["budget_max"], body["total_area_min"], body["total_area_max"]) == (
        10_000_000,
        15_000_000,
        50,
        70,
    )
    assert (body["construction_year"], body["construction_quarter"], body["mortgage_approved"]) == (2023, 4, True)
    assert body["wishes"] == "хорошая инфраструктура"
    assert body["match_count"] == 0

    mine = await client.get("/users/my_requests", headers=tokens.headers(buyer, "user"))
    assert mine.status_code == 200
    assert mine.json() == [body]

    [announced] = [
        event for event in await events.published("request.created") if event["data"]["request_id"] == body["id"]
    ]
    assert announced["data"]["buyer_id"] == buyer
    assert announced["data"]["deal_format"] == "sale"


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (
            {"deal_format": "rent", "type": "house", "currency": "USD", "total_rooms": "studio"},
            ("rent", "house", "USD", "studio"),
        ),
        (
            {"deal_format": "Хочу Арендовать", "type": "ДОМ", "currency": "евро", "total_rooms": "Студия"},
            ("rent", "house", "EUR", "studio"),
        ),
        (
            {"deal_format": "sale", "type": "apartment", "currency": "$", "total_rooms": 3},
            ("sale", "apartment", "USD", "3"),
        ),
        ({"deal_format": "buy", "type": "flat", "total_rooms": "4+"}, ("sale", "apartment", "RUB", "4+")),
    ],
)
async def test_english_codes_and_russian_phrases(
    client: httpx.AsyncClient, tokens: TokenFactory, values: dict[str, Any], expected: tuple[str, ...]
) -> None:
    created = await client.post(
        "/users/create_request", json={"city": "Казань", **values}, headers=tokens.headers(new_id(), "user")
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["deal_format"], body["type"], body["currency"], body["total_rooms"]) == expected


async def test_unknown_values_get_422_listing_the_allowed_ones(client: httpx.AsyncClient, tokens: TokenFactory) -> None:
    headers = tokens.headers(new_id(), "user")
    response = await client.post(
        "/users/create_request", json=SEED_REQUEST | {"deal_format": "хочу поменять"}, headers=headers
    )
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "deal_format"]
    assert "sale, rent" in error["msg"]

    response = await client.post("/users/create_request", json=SEED_REQUEST | {"currency": "тугрики"}, headers=headers)
    assert response.status_code == 422
    assert "RUB, USD, EUR" in response.json()["detail"][0]["msg"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"total_area_min": 80, "total_area_max": 70}, "total_area_min must not exceed total_area_max"),
        ({"budget_min": 20_000_000}, "budget_min must not exceed budget_max"),
        ({"budget_min": -1}, "budget_min"),
        ({"total_area_max": -5}, "total_area_max"),
        ({"construction_quarter": 5}, "construction_quarter"),
        ({"construction_quarter": 0}, "construction_quarter"),
        ({"construction_year": 1500}, "construction_year"),
        ({"construction_year": 3000}, "construction_year"),
        ({"total_rooms": "много"}, "total_rooms"),
        ({"total_rooms": "-1"}, "total_rooms"),
        ({"city": "  "}, "city"),
        ({"city": None}, "city"),
        ({"budget_max": "бесплатно"}, "budget_max"),
        ({"mortgage_approved": "может быть"}, "mortgage_approved"),
        ({"city": "Мос\x00ква"}, "city"),
        ({"wishes": "тихо\x00"}, "wishes"),
        ({"city": "М" * 101}, "city"),
        ({"budget_max": 1e300}, "budget_max"),
        ({"construction_year": 10**30}, "construction_year"),
    ],
)
async def test_ranges_and_values_are_checked(
    client: httpx.AsyncClient, tokens: TokenFactory, change: dict[str, Any], field: str
) -> None:
    buyer = new_id()
    response = await client.post(
        "/users/create_request", json=SEED_REQUEST | change, headers=tokens.headers(buyer, "user")
    )
    assert response.status_code == 422, response.text
    assert field in str(response.json()["detail"])
    assert (await client.get("/users/my_requests", headers=tokens.headers(buyer, "user"))).json() == []


async def test_malformed_body_is_a_422(client: httpx.AsyncClient, tokens: TokenFactory) -> None:
    headers = tokens.headers(new_id(), "user") | {"Content-Type": "application/json"}
    assert (await client.post("/users/create_request", content=b"{not json", headers=headers)).status_code == 422
    assert (await client.post("/users/create_request", json=[1, 2], headers=headers)).status_code == 422


@pytest.mark.parametrize("role", ["realtor", "agency", "developer"])
async def test_only_buyers_may_use_requests(client: httpx.AsyncClient, tokens: TokenFactory, role: str) -> None:
    headers = tokens.headers(new_id(), role)
    assert (await client.post("/users/create_request", json=SEED_REQUEST, headers=headers)).status_code == 403
    assert (await client.get("/users/my_requests", headers=headers)).status_code == 403
    assert (await client.get("/users/my_requests/1/matches", headers=headers)).status_code == 403
    assert (await client.patch("/users/my_requests/1", json={}, headers=headers)).status_code == 403
    assert (await client.delete("/users/my_requests/1", headers=headers)).status_code == 403


async def test_a_token_is_required(client: httpx.AsyncClient) -> None:
    assert (await client.post("/users/create_request", json=SEED_REQUEST)).status_code == 401
    assert (await client.get("/users/my_requests", headers={"Authorization": "Bearer nonsense"})).status_code == 401


async def test_requests_are_their_owners_only(client: httpx.AsyncClient, tokens: TokenFactory) -> None:
    owner, stranger = tokens.headers(new_id(), "user"), tokens.headers(new_id(), "user")
    request_id = (await client.post("/users/create_request", json=SEED_REQUEST, headers=owner)).json()["id"]

    assert (await client.get("/users/my_requests", headers=stranger)).json() == []
    for method, path in [
        ("GET", f"/users/my_requests/{request_id}"),
        ("GET", f"/users/my_requests/{request_id}/matches"),
        ("PATCH", f"/users/my_requests/{request_id}"),
        ("DELETE", f"/users/my_requests/{request_id}"),
    ]:
        response = await client.request(method, path, json={"status": "closed"}, headers=stranger)
        assert response.status_code == 404, (method, path)
        assert response.json() == {"detail": "Request not found", "code": "not_found"}
    mine = (await client.get(f"/users/my_requests/{request_id}", headers=owner)).json()
    assert mine["status"] == "open"
    assert (await client.get("/users/my_requests/0", headers=owner)).status_code == 422
    assert (await client.get("/users/my_requests/99999999999", headers=owner)).status_code == 422


async def test_edit_close_and_delete(client: httpx.AsyncClient, tokens: TokenFactory) -> None:
    headers = tokens.headers(new_id(), "user")
    request_id = (await client.post("/users/create_request", json=SEED_REQUEST, headers=headers)).json()["id"]
    path = f"/users/my_requests/{request_id}"

    edited = await client.patch(
        path, json={"budget_max": 20_000_000, "district": None, "urgency": "не срочно"}, headers=headers
    )
    assert edited.status_code == 200, edited.text
    body = edited.json()
    assert (body["budget_max"], body["district"], body["urgency"], body["budget_min"]) == (
        20_000_000,
        None,
        "not_urgent",
        10_000_000,
    )

    # Checked against the stored values too: min above the stored max.
    too_high = await client.patch(path, json={"total_area_min": 90}, headers=headers)
    assert too_high.status_code == 422
    [error] = too_high.json()["detail"]
    assert error["loc"] == ["body"] and "total_area_min must not exceed total_area_max" in error["msg"]
    assert (await client.patch(path, json={"type": "замок"}, headers=headers)).status_code == 422
    assert (await client.patch(path, json={"city": None}, headers=headers)).status_code == 422
    assert (await client.patch(path, json={"status": "paused"}, headers=headers)).status_code == 422
    assert (await client.patch(path, json=["status"], headers=headers)).status_code == 422
    assert (await client.get(path, headers=headers)).json()["total_area_min"] == 50

    closed = await client.patch(path, json={"status": "closed"}, headers=headers)
    assert closed.json()["status"] == "closed"
    assert closed.json()["budget_max"] == 20_000_000

    deleted = await client.delete(path + "/", headers=headers)
    assert deleted.json() == {"message": "Request deleted successfully"}
    assert (await client.delete(path, headers=headers)).status_code == 404
    assert (await client.get("/users/my_requests/", headers=headers)).json() == []


async def test_my_requests_newest_first_with_paging(client: httpx.AsyncClient, tokens: TokenFactory) -> None:
    headers = tokens.headers(new_id(), "user")
    ids = [
        (await client.post("/users/create_request", json=SEED_REQUEST | {"city": city}, headers=headers)).json()["id"]
        for city in ("Москва", "Сочи", "Тула")
    ]
    page = (await client.get("/users/my_requests", params={"limit": 2}, headers=headers)).json()
    assert [item["id"] for item in page] == ids[::-1][:2]
    rest = (await client.get("/users/my_requests", params={"skip": 2, "limit": 2}, headers=headers)).json()
    assert [item["id"] for item in rest] == ids[:1]
    assert (await client.get("/users/my_requests", params={"limit": 1000}, headers=headers)).status_code == 422
    assert (await client.get("/users/my_requests", params={"skip": -1}, headers=headers)).status_code == 422


HUGE = str(2**63)


@pytest.mark.parametrize(
    ("method", "path", "params"),
    [
        ("GET", f"/users/my_requests/{2**31}", {}),
        ("GET", f"/users/my_requests/{HUGE}", {}),
        ("PATCH", f"/users/my_requests/{HUGE}", {}),
        ("DELETE", f"/users/my_requests/{HUGE}", {}),
        ("GET", f"/users/my_requests/{HUGE}/matches", {}),
        ("GET", "/users/my_requests/1/matches", {"skip": HUGE}),
        ("GET", "/users/my_requests/1/matches", {"limit": HUGE}),
        ("GET", "/users/my_requests", {"skip": HUGE}),
        ("GET", "/users/my_requests", {"limit": HUGE}),
    ],
)
async def test_huge_numbers_are_refused_before_the_database(
    client: httpx.AsyncClient, tokens: TokenFactory, method: str, path: str, params: dict[str, str]
) -> None:
    body = {"wishes": "x"} if method == "PATCH" else None
    response = await client.request(method, path, params=params, json=body, headers=tokens.headers(new_id(), "user"))
    assert response.status_code == 422, response.text
    assert (
        await client.get("/users/my_requests/2147483647", headers=tokens.headers(new_id(), "user"))
    ).status_code == 404
