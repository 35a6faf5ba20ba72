"""Listings through the real gateway: the seed's curl example for #9, media, ownership, owner deletion."""

import io
import json
import subprocess
import time
from pathlib import Path

import httpx
from PIL import Image

from .conftest import Client

# The seed's curl example for #9, argument for argument (its URL quote is fixed).
SEED_CURL_FORM = """deal_format=sale
type=apartment
subtype=studio
condition=new
entry_year=2024
entry_quarter=2
purpose=residence
location=123 Main St, Anytown
price=150000
currency=USD
title=Beautiful Studio Apartment
description=A beautiful new studio apartment located in the heart of the city.
images=@layout1.jpg
images=@layout2.jpg
document_file1=@doc1.pdf
document_file2=@doc2.pdf
document_file3=@doc3.pdf
floor=3
total_area=45.5
living_area=40
ceiling_height=3
rooms=1
bedrooms=1
bathrooms=1
features=kitchen,balcony
equipment=furniture,appliances
layout=@layout.jpg
building_floors=10
building_living_area=4000
apartments=50
lifts_per_entrance=2
building_features=parking,pool
building_name=Luxury Residences
developer=Top Developer
materials=brick
building_layout=@building_layout.jpg
territory_area=2000
territory_features=garden,gym
territory_layout=@territory_layout.jpg
nearby_places=beach,park
views=sea view,city view
video_title=Apartment Tour
video_url=http://example.com/tour
services=remote deal,crypto payment
commission_amount=5
commission_type=% of deal
documents=title deed,purchase contract""".splitlines()

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def write_seed_files(directory: Path) -> None:
    """Photos with a camera make and GPS position in their EXIF, and real PDFs."""
    exif = Image.Exif()
    exif[0x010F] = "SpyCam"
    exif[0x8825] = {2: (55.0, 45.0, 0.0)}
    for name in ("layout1.jpg", "layout2.jpg", "layout.jpg", "building_layout.jpg", "territory_layout.jpg"):
        Image.new("RGB", (80, 60), (20, 120, 200)).save(directory / name, format="JPEG", exif=exif)
    for name in ("doc1.pdf", "doc2.pdf", "doc3.pdf"):
        (directory / name).write_bytes(PDF)


def seed_curl(base_url: str, token: str, directory: Path) -> tuple[int, dict[str, object]]:
    arguments = ["curl", "-sS", "-w", "\n%{http_code}", "-X", "POST", f"{base_url}/properties/create"]
    arguments += ["-H", f"Authorization: Bearer {token}", "-H", "Content-Type: multipart/form-data"]
    for field in SEED_CURL_FORM:
        arguments += ["-F", field]
    done = subprocess.run(arguments, cwd=directory, capture_output=True, check=True, timeout=30)
    body, _, status = done.stdout.decode().rpartition("\n")
    return int(status), json.loads(body)


def test_the_seed_curl_example_through_the_gateway(
    gateway: httpx.Client, app_client: Client, phone: str, tmp_path: Path
) -> None:
    headers = app_client.login(phone, "realtor")
    write_seed_files(tmp_path)
    status, created = seed_curl(str(gateway.base_url).rstrip("/"), headers["Authorization"].split()[1], tmp_path)
    assert status == 201, created
    assert isinstance(created["id"], int)
    assert created["features"] == ["kitchen", "balcony"] and created["commission_type"] == "percent"
    assert (created["price"], created["currency"], created["price_rub"]) == (150000, "USD", 13_500_000)

    mine = gateway.get("/properties/my_properties/", headers=headers)
    assert mine.status_code == 200, mine.text
    assert mine.json()[0] == created

    images = created["images"]
    assert isinstance(images, list) and len(images) == 2
    # The original server's names; the first version's names stay as deprecated aliases with the same values.
    layouts = [created["layout"], created["building_layout"], created["territory_layout"]]
    assert layouts == [created["layout_url"], created["building_layout_url"], created["territory_layout_url"]]
    for url in [*images, *layouts]:
        served = gateway.get(str(url))
        assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"
        with Image.open(io.BytesIO(served.content)) as image:
            assert image.size == (80, 60) and not image.getexif()
    documents = [created["document_file1"], created["document_file2"], created["document_file3"]]
    assert documents == created["document_file_urls"]
    assert [gateway.get(str(url)).content for url in documents] == [PDF, PDF, PDF]
    card = gateway.get(f"/properties/{created['id']}").json()  # anonymous: documents stay the owner's
    assert card["layout"] == created["layout"] and card["images"] == images
    assert (card["document_file1"], card["document_file2"], card["document_file3"]) == (None, None, None)

    found = gateway.get("/properties", params={"city": "anytown", "price_min": 13_499_999, "price_max": 13_500_001})
    assert created["id"] in [item["id"] for item in found.json()["items"]]


def test_roles_and_ownership_through_the_gateway(gateway: httpx.Client, app_client: Client, phone: str) -> None:
    owner = app_client.login(phone, "agency")
    form = {"deal_format": "rent", "type": "квартира", "location": "ул. Ленина 1, Казань", "price": "50000"}
    created = gateway.post("/properties/create", data=form | {"currency": "RUB", "title": "Flat"}, headers=owner)
    assert created.status_code == 201, created.text
    path = f"/properties/{created.json()['id']}"

    buyer = app_client.login(f"+7917{phone[5:]}", "user")
    assert gateway.post("/properties/create", data=form, headers=buyer).status_code == 403
    other = app_client.login(f"+7918{phone[5:]}", "realtor")
    assert gateway.patch(path, data={"price": "1"}, headers=other).status_code == 403
    assert gateway.delete(path, headers=other).status_code == 403
    assert gateway.delete(path).status_code == 401
    assert gateway.patch(path, data={"price": "1"}).status_code == 401

    card = gateway.get(path).json()
    assert card["city"] == "Казань" and "phone" not in card["owner"]
    # The phone is revealed on request, to signed-in callers (the owner is told).
    assert gateway.post(f"{path}/contact").status_code == 401
    contact = gateway.post(f"{path}/contact", headers=buyer)
    deadline = time.monotonic() + 10
    while contact.status_code == 404 and time.monotonic() < deadline:  # the owner's profile is on its way
        time.sleep(0.2)
        contact = gateway.post(f"{path}/contact", headers=buyer)
    assert (contact.status_code, contact.json()["phone"]) == (200, phone)

    assert gateway.patch(path, data={"status": "sold"}, headers=owner).json()["status"] == "sold"
    assert gateway.delete(path, headers=owner).status_code == 200
    assert gateway.get(path).status_code == 404


def test_deleting_the_owner_archives_their_listings(gateway: httpx.Client, app_client: Client, phone: str) -> None:
    owner = app_client.login(phone, "developer")
    form = {"deal_format": "sale", "type": "house", "location": "Сочи", "price": "9000000", "currency": "RUB"}
    created = gateway.post("/properties/create", data=form | {"title": "House"}, headers=owner)
    assert created.status_code == 201, created.text
    path = f"/properties/{created.json()['id']}"
    assert gateway.get(path).json()["status"] == "active"

    deleted = gateway.request("DELETE", "/users/delete", json={"phone": phone}, headers=owner)
    assert deleted.status_code == 200, deleted.text
    deadline = time.monotonic() + 15
    while gateway.get(path).status_code != 404:
        assert time.monotonic() < deadline, "user.deleted did not archive the listing"
        time.sleep(0.2)
    found = gateway.get("/properties", params={"city": "сочи", "limit": 100}).json()["items"]
    assert created.json()["id"] not in [item["id"] for item in found]


def test_oversized_and_overmany_uploads_are_refused_and_store_nothing(
    gateway: httpx.Client, app_client: Client, phone: str
) -> None:
    realtor = app_client.login(phone, "realtor")
    form = {"deal_format": "sale", "type": "apartment", "location": "ул. Ленина 1, Казань", "price": "1000000"}
    form |= {"currency": "RUB", "title": "Too much"}
    fifty_megabytes = b"\xff\xd8\xff" + b"\x00" * (50 * 1024 * 1024)
    huge = gateway.post(
        "/properties/create", data=form, files={"images": ("big.jpg", fifty_megabytes, "image/jpeg")}, headers=realtor
    )
    assert huge.status_code == 413, huge.text
    tiny = io.BytesIO()
    Image.new("RGB", (2, 2)).save(tiny, format="PNG")
    many = [("images", (f"{index}.png", tiny.getvalue(), "image/png")) for index in range(1000)]
    too_many = gateway.post("/properties/create", data=form, files=many, headers=realtor)
    assert too_many.status_code in (400, 422), too_many.text
    assert "files" in too_many.text or "images" in too_many.text
    assert gateway.get("/properties/my_properties", headers=realtor).json() == []
