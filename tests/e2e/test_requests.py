"""Buyer requests through the real gateway: seed #11/#12, matching a realtor's new listing within 1 s."""

import io
import time
from typing import Any

import httpx
from PIL import Image

from .conftest import Client

# Seed #11's example, exactly as written.
SEED_REQUEST: dict[str, Any] = {
    "city": "Москва",
    "district": "Центральный",
    "deal_format": "хочу купить",
    "type": "квартира",
    "subtype": "апартаменты",
    "condition": "новая",
    "construction_year": 2023,
    "construction_quarter": 4,
    "total_rooms": "2",
    "total_area_min": 50,
    "total_area_max": 70,
    "budget_min": 10000000,
    "budget_max": 15000000,
    "currency": "рубли",
    "purchase_purpose": "для проживания",
    "urgency": "срочно",
    "purchase_method": "в ипотеку",
    "mortgage_approved": True,
    "wishes": "хорошая инфраструктура",
}

# Seed #9's fields for a listing that fits it: 150 000 USD is 13.5M RUB at the local rate of 90.
FITTING_LISTING = {
    "deal_format": "sale",
    "type": "apartment",
    "subtype": "apartments",
    "condition": "new",
    "entry_year": "2023",
    "entry_quarter": "4",
    "purpose": "residence",
    "location": "ул. Тверская, 7, Москва",
    "city": "Москва",
    "district": "Центральный",
    "price": "150000",
    "currency": "USD",
    "title": "Апартаменты на Тверской",
    "description": "Новые апартаменты в центре.",
    "floor": "3",
    "total_area": "60",
    "living_area": "40",
    "rooms": "2",
    "building_floors": "10",
}


def _photo() -> bytes:
    image = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 120, 20)).save(image, format="JPEG")
    return image.getvalue()


def _publish(gateway: httpx.Client, headers: dict[str, str], **changes: str) -> int:
    created = gateway.post(
        "/properties/create",
        data=FITTING_LISTING | changes,
        files=[("images", ("front.jpg", _photo(), "image/jpeg"))],
        headers=headers,
    )
    assert created.status_code == 201, created.text
    property_id: int = created.json()["id"]
    return property_id


def _request(gateway: httpx.Client, headers: dict[str, str], request_id: int) -> dict[str, Any]:
    mine = gateway.get("/users/my_requests", headers=headers)
    assert mine.status_code == 200, mine.text
    found: dict[str, Any] = next(item for item in mine.json() if item["id"] == request_id)
    return found


def _matched_ids(gateway: httpx.Client, headers: dict[str, str], request_id: int) -> list[int]:
    matches = gateway.get(f"/users/my_requests/{request_id}/matches", headers=headers)
    assert matches.status_code == 200, matches.text
    return [match["id"] for match in matches.json()]


def _poll(check: Any, within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.02)
    return bool(check())


def test_a_new_listing_matches_the_seed_request_promptly(gateway: httpx.Client, app_client: Client, phone: str) -> None:
    buyer = app_client.login(phone, "user")
    realtor = app_client.login(f"+7926{phone[5:]}", "realtor")

    assert gateway.post("/users/create_request", json=SEED_REQUEST, headers=realtor).status_code == 403
    assert gateway.post("/users/create_request", json=SEED_REQUEST).status_code == 401
    created = gateway.post("/users/create_request/", json=SEED_REQUEST, headers=buyer)
    assert created.status_code == 201, created.text
    request = created.json()
    assert (request["deal_format"], request["type"], request["currency"], request["urgency"]) == (
        "sale",
        "apartment",
        "RUB",
        "urgent",
    )
    request_id = request["id"]

    misfits = [
        _publish(gateway, realtor, city="Казань", location="ул. Баумана, 1, Казань"),
        _publish(gateway, realtor, price="200000"),  # 18M RUB, above the budget
    ]
    property_id = _publish(gateway, realtor)
    published_at = time.monotonic()
    # The 1 s budget (docs/performance.md) is the benchmarks' to measure; a slow CI machine gets margin here.
    matched = _poll(lambda: _request(gateway, buyer, request_id)["match_count"] == 1, within=5.0)
    latency = time.monotonic() - published_at
    assert matched, f"no match within {latency:.2f} s"

    [match] = gateway.get(f"/users/my_requests/{request_id}/matches", headers=buyer).json()
    assert match["id"] == property_id
    assert (match["title"], match["price"], match["currency"], match["city"]) == (
        "Апартаменты на Тверской",
        150000,
        "USD",
        "Москва",
    )
    assert (match["rooms"], match["total_area"]) == (2, 60)
    assert gateway.get(match["cover_image_url"]).status_code == 200
    assert not set(misfits) & set(_matched_ids(gateway, buyer, request_id))

    archived = gateway.patch(f"/properties/{property_id}", data={"status": "archived"}, headers=realtor)
    assert archived.status_code == 200, archived.text
    assert _poll(lambda: _matched_ids(gateway, buyer, request_id) == [], within=2.0), "archived listing still matches"
    assert _request(gateway, buyer, request_id)["match_count"] == 0


def test_requests_are_the_buyers_own(gateway: httpx.Client, app_client: Client, phone: str) -> None:
    buyer = app_client.login(phone, "user")
    other = app_client.login(f"+7927{phone[5:]}", "user")
    request_id = gateway.post("/users/create_request", json=SEED_REQUEST, headers=buyer).json()["id"]
    path = f"/users/my_requests/{request_id}"

    assert gateway.get(f"{path}/matches", headers=other).status_code == 404
    assert gateway.delete(path, headers=other).status_code == 404
    assert gateway.patch(path, json={"status": "closed"}, headers=buyer).json()["status"] == "closed"
    assert gateway.delete(path, headers=buyer).json() == {"message": "Request deleted successfully"}
    assert gateway.get("/users/my_requests", headers=buyer).json() == []


def test_a_listing_naming_its_district_only_in_the_address_matches_the_seed_request(
    gateway: httpx.Client, app_client: Client, phone: str
) -> None:
    """Seed #9 has no district field: a realtor writes it into `location`; seed #11 asks for "Центральный"."""
    buyer = app_client.login(phone, "user")
    realtor = app_client.login(f"+7928{phone[5:]}", "realtor")
    request_id = gateway.post("/users/create_request", json=SEED_REQUEST, headers=buyer).json()["id"]
    seed_fields = {name: value for name, value in FITTING_LISTING.items() if name not in ("city", "district")}
    created = gateway.post(
        "/properties/create",
        data=seed_fields | {"location": "Москва, Центральный район, ул. Тверская, 1"},
        files=[("images", ("front.jpg", _photo(), "image/jpeg"))],
        headers=realtor,
    )
    assert created.status_code == 201, created.text
    listing = created.json()
    assert (listing["city"], listing["district"]) == ("Москва", None)

    assert _poll(lambda: listing["id"] in _matched_ids(gateway, buyer, request_id), within=5.0), "no match"
    found = gateway.get("/properties", params={"city": "Москва", "district": "Центральный", "limit": 100})
    assert listing["id"] in [item["id"] for item in found.json()["items"]]
    okrug = gateway.get("/properties", params={"city": "москва", "district": "ЦАО", "limit": 100})
    assert listing["id"] in [item["id"] for item in okrug.json()["items"]]
