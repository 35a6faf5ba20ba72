"""Listings tests run the real app on a database and namespace of their own."""

import io
from pathlib import Path

import pytest
from PIL import Image

from listings_service.main import create_app
from listings_service.settings import ListingsSettings
from service_kit.testing import ServiceUnderTest


@pytest.fixture(scope="session")
def service_under_test() -> ServiceUnderTest:
    return ServiceUnderTest(
        "listings", Path(__file__).resolve().parent.parent / "alembic.ini", create_app, ListingsSettings
    )


def image_bytes(image_format: str = "JPEG", size: tuple[int, int] = (64, 48)) -> bytes:
    """A real image; JPEGs carry a camera make and a GPS position in their EXIF."""
    image = Image.new("RGB", size, (200, 30, 30))
    buffer = io.BytesIO()
    if image_format == "JPEG":
        exif = Image.Exif()
        exif[0x010F] = "SpyCam"
        exif[0x8825] = {2: (55.0, 45.0, 0.0)}
        image.save(buffer, format="JPEG", exif=exif)
    else:
        image.save(buffer, format=image_format)
    return buffer.getvalue()


# The smallest PDF a reader opens: one empty page.
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)

# The form fields of the seed's curl example for #9, as written there.
SEED_FIELDS: dict[str, str] = {
    "deal_format": "sale",
    "type": "apartment",
    "subtype": "studio",
    "condition": "new",
    "entry_year": "2024",
    "entry_quarter": "2",
    "purpose": "residence",
    "location": "123 Main St, Anytown",
    "price": "150000",
    "currency": "USD",
    "title": "Beautiful Studio Apartment",
    "description": "A beautiful new studio apartment located in the heart of the city.",
    "floor": "3",
    "total_area": "45.5",
    "living_area": "40",
    "ceiling_height": "3",
    "rooms": "1",
    "bedrooms": "1",
    "bathrooms": "1",
    "features": "kitchen,balcony",
    "equipment": "furniture,appliances",
    "building_floors": "10",
    "building_living_area": "4000",
    "apartments": "50",
    "lifts_per_entrance": "2",
    "building_features": "parking,pool",
    "building_name": "Luxury Residences",
    "developer": "Top Developer",
    "materials": "brick",
    "territory_area": "2000",
    "territory_features": "garden,gym",
    "nearby_places": "beach,park",
    "views": "sea view,city view",
    "video_title": "Apartment Tour",
    "video_url": "http://example.com/tour",
    "services": "remote deal,crypto payment",
    "commission_amount": "5",
    "commission_type": "% of deal",
    "documents": "title deed,purchase contract",
}

FileParts = list[tuple[str, tuple[str, bytes, str]]]


def seed_files() -> FileParts:
    """The files of the seed's curl example: two photos, three plans, three PDFs."""
    jpeg, png = image_bytes("JPEG"), image_bytes("PNG")
    return [
        ("images", ("layout1.jpg", jpeg, "image/jpeg")),
        ("images", ("layout2.jpg", png, "image/jpeg")),
        ("document_file1", ("doc1.pdf", PDF, "application/pdf")),
        ("document_file2", ("doc2.pdf", PDF, "application/pdf")),
        ("document_file3", ("doc3.pdf", PDF, "application/pdf")),
        ("layout", ("layout.jpg", jpeg, "image/jpeg")),
        ("building_layout", ("building_layout.jpg", jpeg, "image/jpeg")),
        ("territory_layout", ("territory_layout.jpg", png, "image/jpeg")),
    ]
