"""Public search: filters, prices across currencies, sort, paging and totals."""

import secrets
from typing import Any

import httpx
import pytest

from service_kit.testing import TokenFactory

from .conftest import SEED_FIELDS


@pytest.fixture
def city() -> str:
    """A city no other test lists in, so totals are exact."""
    return f"Town-{secrets.token_hex(4)}"


async def publish(client: httpx.AsyncClient, tokens: TokenFactory, owner: int, **fields: str) -> dict[str, Any]:
    response = await client.post(
        "/properties/create", data=SEED_FIELDS | fields, headers=tokens.headers(owner, "realtor")
    )
    assert response.status_code == 201, response.text
    listing: dict[str, Any] = response.json()
    return listing


async def ids(client: httpx.AsyncClient, **params: Any) -> tuple[list[int], int]:
    response = await client.get("/properties/", params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    return [item["id"] for item in body["items"]], body["total"]


async def test_prices_in_any_currency_are_compared_in_rubles(
    client: httpx.AsyncClient, tokens: TokenFactory, city: str
) -> None:
    dollars = await publish(client, tokens, 601, city=city, price="150000", currency="USD")  # 13.5M RUB
    rubles = await publish(client, tokens, 601, city=city, price="10000000", currency="RUB")
    euros = await publish(client, tokens, 602, city=city, price="100000", currency="EUR")  # 9.8M RUB

    assert await ids(client, city=city, price_min=13_000_000, price_max=14_000_000) == ([dollars["id"]], 1)
    assert await ids(client, city=city.upper(), price_max=120_000, currency="USD", sort="price_asc") == (
        [euros["id"], rubles["id"]],
        2,
    )
    assert await ids(client, city=city, sort="price_desc") == ([dollars["id"], rubles["id"], euros["id"]], 3)
    assert await ids(client, city=city, sort="price_desc", skip=1, limit=1) == ([rubles["id"]], 3)
    assert await ids(client, city=city) == ([euros["id"], rubles["id"], dollars["id"]], 3)  # newest first


async def test_filters_and_area_sort(client: httpx.AsyncClient, tokens: TokenFactory, city: str) -> None:
    small = await publish(client, tokens, 701, city=city, total_area="30", living_area="20", rooms="0")
    house = await publish(
        client, tokens, 701, city=city, type="дом", subtype="villa", total_area="200", rooms="5", features="pool,garden"
    )
    rental = await publish(
        client, tokens, 702, city=city, deal_format="rent", subtype="flat", total_area="60", rooms="2", district="Центр"
    )
    hidden = await publish(client, tokens, 702, city=city, total_area="70")
    await client.patch(
        f"/properties/{hidden['id']}", data={"status": "archived"}, headers=tokens.headers(702, "realtor")
    )

    assert await ids(client, city=city, sort="area_asc") == ([small["id"], rental["id"], house["id"]], 3)
    assert await ids(client, city=city, sort="area_desc", limit=2) == ([house["id"], rental["id"]], 3)
    assert await ids(client, city=city, type="house") == ([house["id"]], 1)
    assert await ids(client, city=city, deal_format="аренда") == ([rental["id"]], 1)
    assert await ids(client, city=city, district="центр") == ([rental["id"]], 1)
    assert await ids(client, city=city, rooms=0) == ([small["id"]], 1)
    assert await ids(client, city=city, area_min=50, area_max=100) == ([rental["id"]], 1)
    assert await ids(client, city=city, features="garden, pool") == ([house["id"]], 1)
    assert await ids(client, city=city, features="garden,sauna") == ([], 0)
    assert await ids(client, city=city, subtype="villa", deal_format="sale") == ([house["id"]], 1)

    archived_card = await client.get(f"/properties/{hidden['id']}")
    assert archived_card.status_code == 404
    owner_view = await client.get(f"/properties/{hidden['id']}", headers=tokens.headers(702, "realtor"))
    assert owner_view.json()["status"] == "archived"


async def test_a_studio_is_zero_rooms_however_it_was_stored(
    client: httpx.AsyncClient, tokens: TokenFactory, city: str
) -> None:
    seed_studio = await publish(client, tokens, 703, city=city)  # the seed's studio: rooms=1
    zero_rooms = await publish(client, tokens, 703, city=city, subtype="flat", rooms="0")
    one_room = await publish(client, tokens, 703, city=city, subtype="flat", rooms="1")
    two_rooms = await publish(client, tokens, 703, city=city, subtype="flat", rooms="2")
    studio_two = await publish(client, tokens, 703, city=city, rooms="2")  # a studio whatever its count says

    assert seed_studio["rooms"] == 1 and seed_studio["subtype"] == "studio"  # stored as sent
    assert await ids(client, city=city, rooms=0) == ([studio_two["id"], zero_rooms["id"], seed_studio["id"]], 3)
    assert await ids(client, city=city, rooms=1) == ([one_room["id"]], 1)
    assert await ids(client, city=city, rooms=2) == ([two_rooms["id"]], 1)
    card = (await client.get(f"/properties/{seed_studio['id']}")).json()
    assert (card["subtype"], card["rooms"]) == ("studio", 1)


async def test_a_city_is_searched_without_its_prefix(
    client: httpx.AsyncClient, tokens: TokenFactory, city: str
) -> None:
    listed = await publish(client, tokens, 704, city=f"г. {city}")
    assert listed["city"] == city
    assert await ids(client, city=f"г. {city.lower()}") == ([listed["id"]], 1)
    assert await ids(client, city=f"город {city}") == ([listed["id"]], 1)


async def test_cities_and_districts_are_compared_as_matching_compares_them(
    client: httpx.AsyncClient, tokens: TokenFactory
) -> None:
    """Case, runs of spaces and ё/е do not matter, in search as in buyer-request matching."""
    town = f"Королёв {secrets.token_hex(4)}"
    listed = await publish(client, tokens, 705, city=f"г. {town}", district="Центральный  Район")
    assert (listed["city"], listed["district"]) == (town, "Центральный  Район")
    folded = town.replace("ё", "е").upper().replace(" ", "   ")
    assert await ids(client, city=folded) == ([listed["id"]], 1)
    assert await ids(client, city=folded, district="центральный район") == ([listed["id"]], 1)
    # A marker word does not matter either: the seed's requests name the district plainly.
    for district in ("Центральный", "р-н Центральный", "ЦАО"):
        assert await ids(client, city=folded, district=district) == ([listed["id"]], 1), district
    assert await ids(client, city=folded, district="Северный") == ([], 0)


async def test_a_listing_without_a_district_is_found_by_the_district_of_its_address(
    client: httpx.AsyncClient, tokens: TokenFactory, city: str
) -> None:
    located = await publish(client, tokens, 706, city=city, location=f"{city}, Центральный район, ул. Тверская, 1")
    okrug = await publish(client, tokens, 706, city=city, location=f"г. {city}, ЦАО, ул. Тверская, д. 3")
    named = await publish(client, tokens, 706, city=city, location=f"{city}, ЦАО, ул. Арбат, 5", district="Хамовники")
    assert located["district"] is None  # stored as the form gave it; only the key comes from the address
    assert await ids(client, city=city, district="Центральный") == ([okrug["id"], located["id"]], 2)
    assert await ids(client, city=city, district="хамовники") == ([named["id"]], 1)
    edited = await client.patch(
        f"/properties/{located['id']}",
        data={"location": "ул. Тверская, 1", "city": city},
        headers=tokens.headers(706, "realtor"),
    )
    assert edited.status_code == 200, edited.text
    assert await ids(client, city=city, district="Центральный") == ([okrug["id"]], 1)


async def test_paging_is_capped_and_bad_filters_are_refused(client: httpx.AsyncClient) -> None:
    assert (await client.get("/properties", params={"limit": 10_000})).status_code == 200
    for params in (
        {"type": "castle"},
        {"price_min": "cheap"},
        {"price_max": "inf"},
        {"area_min": "nan"},
        {"city": "a\x00b"},
        {"sort": "random"},
        {"skip": -1},
        {"limit": 0},
    ):
        response = await client.get("/properties", params=params)
        assert response.status_code == 422, params
        assert next(iter(params)) in response.text
