"""Notifications tests run the real app on a database and namespace of their own.

Events arrive through RabbitMQ as in production; pushes go to a local fake of
FCM and RuStore (tests/fake_push.py). Socket tests run real uvicorn servers in
this process: several app instances sharing the database and the namespace are
several replicas.
"""

from pathlib import Path

import pytest

from notifications_service.main import create_app
from notifications_service.settings import NotificationsSettings
from service_kit.testing import ServiceUnderTest


@pytest.fixture(scope="session")
def service_under_test() -> ServiceUnderTest:
    alembic_ini = Path(__file__).resolve().parent.parent / "alembic.ini"
    return ServiceUnderTest("notifications", alembic_ini, create_app, NotificationsSettings)
