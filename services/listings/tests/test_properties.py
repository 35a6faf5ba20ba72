"""Creating, reading, editing and deleting listings through the API, on the real database."""

import io
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from PIL import Image
from sqlalchemy import func, select

from event_contracts.users import UserUpdated
from listings_service.domain.owners import remember_owner
from listings_service.models import Property, outbox
from listings_service.settings import ListingsSettings
from service_kit.testing import TokenFactory, envelope, validate_event

from .conftest import PDF, SEED_FIELDS, FileParts, image_bytes, seed_files

REALTOR = 101


async def create(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    fields: dict[str, str] | None = None,
    files: FileParts | None = None,
) -> httpx.Response:
    return await client.post(
        "/properties/create",
        data=fields or SEED_FIELDS,
        files=seed_files() if files is None else files,
        headers=headers,
    )


async def rows_of(app: FastAPI, owner_id: int) -> int:
    async with app.state.container.runtime.database.sessions() as session:
        count = await session.scalar(select(func.count()).select_from(Property).where(Property.owner_id == owner_id))
    return count or 0


def stored_files(settings: ListingsSettings) -> list[Path]:
    return list(settings.media_dir.glob("*")) if settings.media_dir.exists() else []


async def test_the_seed_example_creates_a_property(client: httpx.AsyncClient, tokens: TokenFactory) -> None:
    headers = tokens.headers(REALTOR, "realtor")
    response = await create(client, headers)
    assert response.status_code == 201, response.text
    created = response.json()
    assert isinstance(created["id"], int)
    assert created["owner_id"] == REALTOR
    assert created["status"] == "active"
    assert (created["deal_format"], created["type"], created["subtype"]) == ("sale", "apartment", "studio")
    assert (created["entry_year"], created["entry_quarter"], created["purpose"]) == (2024, 2, "residence")
    assert (created["price"], created["currency"], created["price_rub"]) == (150000, "USD", 13_500_000)
    assert created["city"] == "Anytown"
    assert created["features"] == ["kitchen", "balcony"]
    assert created["views"] == ["sea view", "city view"]
    assert created["services"] == ["remote deal", "crypto payment"]
    assert created["documents"] == ["title deed", "purchase contract"]
    assert created["commission_type"] == "percent"
    assert (created["floor"], created["building_floors"], created["total_area"]) == (3, 10, 45.5)
    assert len(created["images"]) == 2 and created["cover_image_url"] == created["images"][0]
    assert created["images"][0].endswith(".jpg") and created["images"][1].endswith(".png")
    assert all(created[f"{name}_url"] for name in ("layout", "building_layout", "territory_layout"))
    assert len(created["document_file_urls"]) == 3

    mine = await client.get("/properties/my_properties/", headers=headers)
    assert mine.status_code == 200
    assert mine.json()[0] == created

    photo = await client.get(created["cover_image_url"])
    assert photo.status_code == 200
    assert photo.headers["content-type"] == "image/jpeg"
    assert "immutable" in photo.headers["cache-control"]
    with Image.open(io.BytesIO(photo.content)) as served:
        assert not served.getexif()
    document = await client.get(created["document_file_urls"][0])
    assert document.content == PDF and document.headers["content-type"] == "application/pdf"


async def test_russian_phrases_are_stored_as_codes(client: httpx.AsyncClient, tokens: TokenFactory) -> None:
    fields = SEED_FIELDS | {"type": "Квартира", "currency": "рубли", "commission_type": "фиксированная"}
    response = await create(client, tokens.headers(REALTOR, "agency"), fields, files=[])
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["type"], body["currency"], body["commission_type"]) == ("apartment", "RUB", "fixed")
    assert body["price_rub"] == 150000 and body["images"] == [] and body["cover_image_url"] is None

    unknown = await create(client, tokens.headers(REALTOR, "agency"), SEED_FIELDS | {"type": "castle"}, files=[])
    assert unknown.status_code == 422
    assert "apartment" in unknown.text and unknown.json()["detail"][0]["loc"] == ["body", "type"]


async def test_only_sellers_create_and_list(client: httpx.AsyncClient, tokens: TokenFactory, app: FastAPI) -> None:
    assert (await create(client, tokens.headers(555, "user"))).status_code == 403
    assert (await create(client, {})).status_code == 401
    assert (await client.get("/properties/my_properties", headers=tokens.headers(555, "user"))).status_code == 403
    assert await rows_of(app, 555) == 0


async def test_only_the_owner_edits_and_deletes(
    client: httpx.AsyncClient, tokens: TokenFactory, settings: ListingsSettings
) -> None:
    owner = tokens.headers(201, "realtor")
    created = (await create(client, owner)).json()
    path = f"/properties/{created['id']}"
    other = tokens.headers(202, "realtor")

    assert (await client.patch(path, data={"price": "1"}, headers=other)).status_code == 403
    assert (await client.put(path, data={"price": "1"}, headers=other)).status_code == 403
    assert (await client.delete(path, headers=other)).status_code == 403
    assert (await client.patch(path, data={"price": "1"})).status_code == 401
    assert (await client.delete(path)).status_code == 401
    assert (await client.delete("/properties/999999", headers=owner)).status_code == 404

    edited = await client.patch(
        path,
        data={"price": "200000", "currency": "евро", "status": "sold", "features": "terrace"},
        files=[("images", ("new.png", image_bytes("PNG"), "image/png"))],
        headers=owner,
    )
    assert edited.status_code == 200, edited.text
    body = edited.json()
    assert (body["price"], body["currency"], body["price_rub"], body["status"]) == (200000, "EUR", 19_600_000, "sold")
    assert body["features"] == ["terrace"] and body["title"] == created["title"] and len(body["images"]) == 1
    assert (await client.get(created["images"][0])).status_code == 404  # replaced files are removed
    assert (await client.put(path, data={"floor": "11"}, headers=owner)).status_code == 422
    # A JSON body would otherwise read as an empty form and change nothing.
    assert (await client.patch(path, json={"status": "active"}, headers=owner)).status_code == 415

    assert (await client.delete(path, headers=owner)).status_code == 200
    assert (await client.get(path)).status_code == 404
    assert stored_files(settings) == []


async def remember(app: FastAPI, profile: dict[str, Any]) -> None:
    async with app.state.container.runtime.database.sessions() as session, session.begin():
        await remember_owner(
            session,
            UserUpdated.model_validate(profile | {"is_active": True}),
            envelope("user.updated", profile).occurred_at,
        )


async def contact_events(app: FastAPI, property_id: int) -> list[dict[str, Any]]:
    async with app.state.container.runtime.database.sessions() as session:
        rows = await session.execute(select(outbox.c.envelope).where(outbox.c.event_type == "contact.revealed"))
    return [row.envelope for row in rows if row.envelope["data"]["property_id"] == property_id]


async def test_the_card_shows_the_owner_but_never_the_phone(
    client: httpx.AsyncClient, tokens: TokenFactory, app: FastAPI
) -> None:
    profile = {"user_id": 301, "phone": "+79250000301", "first_name": "Анна", "last_name": "Петрова", "role": "agency"}
    await remember(app, profile)
    created = (await create(client, tokens.headers(301, "agency"), files=[])).json()

    owner = {"id": 301, "first_name": "Анна", "last_name": "Петрова", "role": "agency"}
    anonymous = (await client.get(f"/properties/{created['id']}")).json()
    assert anonymous["owner"] == owner
    assert anonymous["document_file_urls"] == []
    signed_in = (await client.get(f"/properties/{created['id']}", headers=tokens.headers(9, "user"))).json()
    assert signed_in["owner"] == owner, "the phone is revealed on request only (POST .../contact)"
    assert (await client.get("/properties/2147483647")).status_code == 404
    assert (await client.get("/properties/abc")).status_code == 422
    assert (await client.get("/properties/99999999999")).status_code == 422


async def test_revealing_the_phone_tells_the_owner(
    client: httpx.AsyncClient, tokens: TokenFactory, app: FastAPI
) -> None:
    profile = {"user_id": 302, "phone": "+79250000302", "first_name": "Олег", "last_name": "Сидоров", "role": "realtor"}
    await remember(app, profile)
    listing = (await create(client, tokens.headers(302, "realtor"), files=[])).json()
    path = f"/properties/{listing['id']}/contact"

    assert (await client.post(path)).status_code == 401
    revealed = await client.post(path, headers=tokens.headers(9, "user"))
    assert revealed.status_code == 200, revealed.text
    assert revealed.json() == {
        "property_id": listing["id"],
        "owner_id": 302,
        "first_name": "Олег",
        "last_name": "Сидоров",
        "phone": "+79250000302",
    }
    assert (await client.post(path + "/", headers=tokens.headers(9, "user"))).status_code == 200
    # The owner looking at their own card is nothing to tell anyone.
    assert (await client.post(path, headers=tokens.headers(302, "realtor"))).json()["phone"] == "+79250000302"
    events = await contact_events(app, listing["id"])
    assert [(event["data"]["viewer_id"], event["data"]["owner_id"]) for event in events] == [(9, 302), (9, 302)]
    for event in events:
        validate_event(event)
    assert events[0]["data"]["title"] == listing["title"]

    assert (await client.post("/properties/2147483647/contact", headers=tokens.headers(9, "user"))).status_code == 404
    # A listing whose owner's profile has not arrived yet has no contact to give, and tells nobody.
    unknown = (await create(client, tokens.headers(303, "realtor"), files=[])).json()
    missing = await client.post(f"/properties/{unknown['id']}/contact", headers=tokens.headers(9, "user"))
    assert (missing.status_code, missing.json()["detail"]) == (404, "The owner's contact is not available")
    assert await contact_events(app, unknown["id"]) == []


@pytest.mark.parametrize("extra_settings", [{"contact_reveal_limit": 2, "contact_reveal_window_seconds": 600}])
async def test_revealing_phones_is_limited_per_caller(
    client: httpx.AsyncClient, tokens: TokenFactory, app: FastAPI
) -> None:
    profile = {"user_id": 304, "phone": "+79250000304", "first_name": "А", "last_name": "Б", "role": "realtor"}
    await remember(app, profile)
    listing = (await create(client, tokens.headers(304, "realtor"), files=[])).json()
    path = f"/properties/{listing['id']}/contact"
    for _ in range(2):
        assert (await client.post(path, headers=tokens.headers(10, "user"))).status_code == 200
    refused = await client.post(path, headers=tokens.headers(10, "user"))
    assert (refused.status_code, refused.headers["retry-after"]) == (429, "600")
    assert len(await contact_events(app, listing["id"])) == 2
    assert (await client.post(path, headers=tokens.headers(11, "user"))).status_code == 200, "another caller"


@pytest.mark.parametrize(
    ("fields", "files", "status", "named"),
    [
        ({"price": "cheap"}, None, 422, "price"),
        ({"rooms": "two"}, None, 422, "rooms"),
        ({"price": "-5"}, None, 422, "price"),
        ({"entry_quarter": "5"}, None, 422, "entry_quarter"),
        ({"entry_year": "20245"}, None, 422, "entry_year"),
        ({"floor": "11"}, None, 422, "floor"),
        ({"living_area": "50"}, None, 422, "living_area"),
        ({"bedrooms": "-1"}, None, 422, "bedrooms"),
        ({"price": "inf"}, None, 422, "price"),
        # Stored to the kopeck it would be 0, which no listing (and no property event) may have.
        ({"price": "0.004", "currency": "USD"}, None, 422, "price"),
        ({"ceiling_height": "nan"}, None, 422, "ceiling_height"),
        ({"title": "nul\x00byte"}, None, 422, "title"),
        ({"location": "x, " + "y" * 400}, None, 422, "city"),
        ({"location": "ул. Тверская, д. 1"}, None, 422, "city"),
        ({"location": "Main St 5, Apt 3"}, None, 422, "city"),
        ({}, [("images", ("virus.jpg", b"MZ\x90\x00" + b"\x00" * 500, "image/jpeg"))], 422, "images[0]"),
        (
            {},
            [("images", ("huge.jpg", b"\xff\xd8\xff" + b"\x00" * (11 * 1024 * 1024), "image/jpeg"))],
            413,
            "images[0]",
        ),
        ({}, [("images", (f"{n}.png", image_bytes("PNG", (2, 2)), "image/png")) for n in range(31)], 422, "images"),
        ({}, [("document_file1", ("doc.pdf", image_bytes(), "application/pdf"))], 422, "document_file1"),
        ({}, [("layout", ("plan.jpg", PDF, "image/jpeg"))], 422, "layout"),
    ],
)
async def test_bad_input_is_refused_and_nothing_is_stored(
    client: httpx.AsyncClient,
    tokens: TokenFactory,
    app: FastAPI,
    settings: ListingsSettings,
    fields: dict[str, str],
    files: FileParts | None,
    status: int,
    named: str,
) -> None:
    owner = 400
    response = await create(client, tokens.headers(owner, "developer"), SEED_FIELDS | fields, files)
    assert response.status_code == status, response.text
    assert named in response.text
    assert await rows_of(app, owner) == 0
    assert stored_files(settings) == []


async def test_a_failure_after_the_files_are_saved_removes_them(
    tokens: TokenFactory, app: FastAPI, settings: ListingsSettings, monkeypatch: Any
) -> None:
    async def broken(*_: Any) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(app.state.container.runtime.outbox, "add", broken)
    # A client that sees the 500 a real caller would, instead of the exception.
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://listings") as plain:
        response = await create(plain, tokens.headers(401, "realtor"))
    assert response.status_code == 500
    assert await rows_of(app, 401) == 0
    assert stored_files(settings) == []


async def test_changes_publish_events_matching_their_schemas(
    client: httpx.AsyncClient, tokens: TokenFactory, app: FastAPI
) -> None:
    owner = tokens.headers(501, "realtor")
    created = (await create(client, owner)).json()
    await client.patch(f"/properties/{created['id']}", data={"status": "archived"}, headers=owner)
    await client.delete(f"/properties/{created['id']}", headers=owner)

    async with app.state.container.runtime.database.sessions() as session:
        envelopes = (await session.scalars(select(outbox.c.envelope).order_by(outbox.c.id))).all()
    mine = [event for event in envelopes if event["data"]["property_id"] == created["id"]]
    assert [event["type"] for event in mine] == ["property.created", "property.updated", "property.deleted"]
    for event in mine:
        validate_event(event)
    assert mine[0]["data"]["price_rub"] == 13_500_000 and mine[0]["data"]["city"] == "Anytown"
    assert mine[0]["data"]["cover_image_url"] == created["cover_image_url"]
    # The seed's studio says rooms=1; the event speaks the contract's studio, rooms 0.
    assert (created["subtype"], created["rooms"], mine[0]["data"]["rooms"]) == ("studio", 1, 0)
    assert mine[1]["data"]["status"] == "archived"


@pytest.mark.parametrize(
    ("location", "city"),
    [
        ("123 Main St, Anytown", "Anytown"),
        ("г. Москва, ул. Тверская, д. 1", "Москва"),
        ("ул. Тверская, д. 1, г. Москва", "Москва"),
        ("ул. Тверская, 1, Москва", "Москва"),
        ("Россия, город Казань, ул. Баумана, 5", "Казань"),
        ("1 Baker Street, London, UK", "London"),
    ],
)
async def test_the_city_is_the_part_of_the_address_that_names_one(
    client: httpx.AsyncClient, tokens: TokenFactory, app: FastAPI, location: str, city: str
) -> None:
    response = await create(client, tokens.headers(REALTOR, "realtor"), SEED_FIELDS | {"location": location}, [])
    assert response.status_code == 201, response.text
    created = response.json()
    assert (created["location"], created["city"]) == (location, city)
    async with app.state.container.runtime.database.sessions() as session:
        envelopes = (await session.scalars(select(outbox.c.envelope).order_by(outbox.c.id))).all()
    [published] = [event for event in envelopes if event["data"]["property_id"] == created["id"]]
    assert published["data"]["city"] == city


async def test_a_city_prefix_is_dropped_and_a_city_less_address_needs_city(
    client: httpx.AsyncClient, tokens: TokenFactory
) -> None:
    headers = tokens.headers(REALTOR, "realtor")
    given = await create(client, headers, SEED_FIELDS | {"city": "г. Тверь", "location": "ул. Советская, д. 2"}, [])
    assert given.status_code == 201, given.text
    assert given.json()["city"] == "Тверь"

    path = f"/properties/{given.json()['id']}"
    moved = await client.patch(path, data={"location": "ул. Ленина, д. 3"}, headers=headers)
    assert moved.status_code == 422
    assert moved.json()["detail"][0]["loc"] == ["body", "city"] and "`city`" in moved.json()["detail"][0]["msg"]
    both = await client.patch(path, data={"location": "ул. Ленина, д. 3", "city": "город Псков"}, headers=headers)
    assert both.status_code == 200, both.text
    assert both.json()["city"] == "Псков"
    renamed = await client.patch(path, data={"location": "г. Сочи, ул. Навагинская, д. 9"}, headers=headers)
    assert renamed.json()["city"] == "Сочи"


async def test_an_edit_clears_an_optional_field_sent_empty(client: httpx.AsyncClient, tokens: TokenFactory) -> None:
    headers = tokens.headers(REALTOR, "realtor")
    fields = SEED_FIELDS | {"district": "Центр", "subtype": "flat"}
    created = (await create(client, headers, fields, [])).json()
    path = f"/properties/{created['id']}"
    assert (created["district"], created["building_name"], created["features"]) == (
        "Центр",
        "Luxury Residences",
        ["kitchen", "balcony"],
    )

    # Urlencoded: empty optional fields are cleared, empty required ones leave the value alone.
    cleared = await client.patch(
        path, data={"district": "", "floor": "", "features": "", "title": "", "price": ""}, headers=headers
    )
    assert cleared.status_code == 200, cleared.text
    body = cleared.json()
    assert (body["district"], body["floor"], body["features"]) == (None, None, [])
    assert (body["title"], body["price"]) == (created["title"], created["price"])
    assert body["building_name"] == "Luxury Residences" and body["equipment"] == created["equipment"]

    # Multipart too (as with files), and through PUT.
    multipart = await client.put(
        path,
        data={"building_name": "", "subtype": "", "district": "Север"},
        files=[("images", ("new.png", image_bytes("PNG"), "image/png"))],
        headers=headers,
    )
    assert multipart.status_code == 200, multipart.text
    body = multipart.json()
    assert (body["building_name"], body["subtype"], body["district"]) == (None, None, "Север")
    assert len(body["images"]) == 1
    card = (await client.get(path)).json()
    assert (card["district"], card["building_name"], card["floor"]) == ("Север", None, None)


async def test_files_are_written_off_the_event_loop(
    client: httpx.AsyncClient, tokens: TokenFactory, app: FastAPI, monkeypatch: Any
) -> None:
    media = app.state.container.media
    save = media.save
    loop_thread = threading.get_ident()
    threads: list[int] = []

    def recording_save(file: Any) -> str:
        threads.append(threading.get_ident())
        name: str = save(file)
        return name

    monkeypatch.setattr(media, "save", recording_save)
    response = await create(client, tokens.headers(REALTOR, "realtor"))
    assert response.status_code == 201, response.text
    assert len(threads) == 8 and loop_thread not in threads


HUGE_ID = str(2**63)


@pytest.mark.parametrize(
    ("method", "path", "params"),
    [
        ("GET", f"/properties/{HUGE_ID}", {}),
        ("GET", f"/properties/{2**31}", {}),
        ("PATCH", f"/properties/{HUGE_ID}", {}),
        ("PUT", f"/properties/{2**31}", {}),
        ("DELETE", f"/properties/{HUGE_ID}", {}),
        ("GET", "/properties/my_properties", {"skip": HUGE_ID}),
        ("GET", "/properties", {"skip": HUGE_ID}),
        ("GET", "/properties", {"rooms": HUGE_ID}),
        ("GET", "/properties", {"price_min": "1e300"}),
        ("GET", "/properties", {"price_max": HUGE_ID + "0" * 20}),
        ("GET", "/properties", {"area_min": "1e300"}),
        ("GET", "/properties", {"area_max": HUGE_ID}),
    ],
)
async def test_huge_numbers_are_refused_before_the_database(
    client: httpx.AsyncClient, tokens: TokenFactory, method: str, path: str, params: dict[str, str]
) -> None:
    response = await client.request(
        method,
        path,
        params=params,
        data={"price": "1"} if method in {"PATCH", "PUT"} else None,
        headers=tokens.headers(REALTOR, "realtor"),
    )
    assert response.status_code == 422, response.text


async def test_a_huge_limit_is_capped(client: httpx.AsyncClient, tokens: TokenFactory) -> None:
    headers = tokens.headers(REALTOR, "realtor")
    assert (await client.get("/properties", params={"limit": HUGE_ID})).status_code == 200
    assert (
        await client.get("/properties/my_properties", params={"limit": HUGE_ID}, headers=headers)
    ).status_code == 200
