"""Listings tests run the real app on a database and namespace of their own."""

from pathlib import Path

from listings_service.main import create_app
from listings_service.settings import ListingsSettings
from service_kit.testing import service_fixtures

globals().update(
    service_fixtures("listings", Path(__file__).resolve().parent.parent / "alembic.ini", create_app, ListingsSettings)
)
