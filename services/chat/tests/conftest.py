"""Chat tests run the real app on a database and namespace of their own."""

from pathlib import Path

from chat_service.main import create_app
from chat_service.settings import ChatSettings
from service_kit.testing import service_fixtures

globals().update(
    service_fixtures("chat", Path(__file__).resolve().parent.parent / "alembic.ini", create_app, ChatSettings)
)
