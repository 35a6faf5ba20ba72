"""Production refuses development shortcuts and push providers without their credentials."""

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from notifications_service.settings import NotificationsSettings


def production(**overrides: Any) -> NotificationsSettings:
    values: dict[str, Any] = {
        "environment": "production",
        "database_url": "postgresql+asyncpg://notifications@db/notifications",
        "rabbitmq_url": "amqp://marketplace:s3cret@mq/",
        "push_providers": ["fcm", "rustore"],
        "fcm_credentials_path": Path("/run/secrets/fcm_credentials"),
        "rustore_project_id": "project-1",
        "rustore_service_token": "real-service-token",
    }
    return NotificationsSettings(**(values | overrides))


def test_production_accepts_real_settings() -> None:
    assert production().is_production
    assert production(push_providers=["fcm"], rustore_project_id=None, rustore_service_token=None).push_providers


@pytest.mark.parametrize(
    ("overrides", "complaint"),
    [
        ({"push_providers": ["console"]}, "console push provider"),
        ({"push_providers": ["fcm", "console"]}, "console push provider"),
        ({"push_providers": []}, "needs a push provider"),
        ({"fcm_credentials_path": None}, "FCM_CREDENTIALS_PATH"),
        ({"rustore_service_token": ""}, "RUSTORE_SERVICE_TOKEN"),
        ({"rustore_project_id": None}, "RUSTORE_PROJECT_ID"),
        ({"rabbitmq_url": "amqp://guest:guest@mq/"}, "guest"),
    ],
)
def test_production_refuses_development_values(overrides: dict[str, Any], complaint: str) -> None:
    with pytest.raises(ValidationError, match=complaint):
        production(**overrides)


def test_development_defaults_to_the_console_provider() -> None:
    development = NotificationsSettings(environment="development", database_url="postgresql+asyncpg://x@y/z")
    assert [provider.value for provider in development.push_providers] == ["console"]
