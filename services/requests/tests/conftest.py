"""Requests tests run the real app on a database and namespace of their own."""

from pathlib import Path

from requests_service.main import create_app
from requests_service.settings import RequestsSettings
from service_kit.testing import service_fixtures

globals().update(
    service_fixtures("requests", Path(__file__).resolve().parent.parent / "alembic.ini", create_app, RequestsSettings)
)
