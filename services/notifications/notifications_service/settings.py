"""Notifications service settings, from the environment (see deploy/local.env for development values)."""

from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Self

from pydantic import Field, SecretStr, model_validator

from service_kit.settings import ServiceSettings


class PushProviderName(StrEnum):
    # Development only: prints every push, whatever the device's platform.
    CONSOLE = "console"
    FCM = "fcm"
    RUSTORE = "rustore"


class NotificationsSettings(ServiceSettings):
    service_name: str = "notifications"

    # Which push providers send; a device whose platform none of them serves gets no push (inbox and socket only).
    push_providers: list[PushProviderName] = Field(default_factory=lambda: [PushProviderName.CONSOLE])
    # FCM HTTP v1: the Firebase service account's JSON key (project_id, client_email, private_key, token_uri).
    fcm_credentials_path: Path | None = None
    fcm_base_url: str = "https://fcm.googleapis.com"
    # RuStore push (an FCM-like API with a static service token).
    rustore_project_id: str | None = None
    rustore_service_token: SecretStr | None = None
    rustore_base_url: str = "https://vkpns.rustore.ru"
    push_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    # A push not accepted after this many tries is given up (the inbox keeps the notification).
    push_max_attempts: int = Field(default=8, ge=1, le=50)
    push_batch_size: int = Field(default=50, ge=1, le=1000)
    # The push worker looks for due pushes this often; a new notification wakes it at once on its replica.
    push_poll_seconds: float = Field(default=1.0, gt=0, le=60)
    # Older notifications are not pushed (after an outage nobody wants yesterday's pushes), only kept.
    push_max_age_seconds: int = Field(default=3600, ge=1)
    # One push per chat and recipient in this window; messages within it only reach the inbox and the badge.
    message_push_window_seconds: float = Field(default=30.0, ge=0, le=3600)
    # A read of presence (is the recipient looking at the chat?) longer than this counts as "not looking".
    presence_timeout_seconds: float = Field(default=0.5, gt=0, le=10)
    max_devices_per_user: int = Field(default=20, ge=1, le=1000)
    inbox_page_max_limit: int = Field(default=100, ge=1, le=1000)

    # The user's socket: frames waiting for one socket, replay on reconnect, token re-checks, client frames.
    socket_queue_size: int = Field(default=256, ge=8)
    replay_limit: int = Field(default=300, ge=1)
    socket_token_check_seconds: float = Field(default=30.0, gt=0, le=3600)
    frame_rate_limit: int = Field(default=20, ge=1)
    frame_rate_window_seconds: int = Field(default=10, ge=1)
    fanout_reconnect_seconds: float = Field(default=1.0, gt=0, le=60)

    @model_validator(mode="after")
    def _providers_are_configured(self) -> Self:
        providers = set(self.push_providers)
        if PushProviderName.FCM in providers and self.fcm_credentials_path is None:
            raise ValueError("PUSH_PROVIDERS has fcm: set FCM_CREDENTIALS_PATH to the service account's JSON key")
        if PushProviderName.RUSTORE in providers and not (
            self.rustore_project_id and self.rustore_service_token and self.rustore_service_token.get_secret_value()
        ):
            raise ValueError("PUSH_PROVIDERS has rustore: set RUSTORE_PROJECT_ID and RUSTORE_SERVICE_TOKEN")
        if self.is_production and PushProviderName.CONSOLE in providers:
            raise ValueError("production refuses the console push provider: set PUSH_PROVIDERS to fcm and/or rustore")
        if self.is_production and not providers:
            raise ValueError("production needs a push provider: set PUSH_PROVIDERS to fcm and/or rustore")
        return self


@lru_cache
def get_settings() -> NotificationsSettings:
    return NotificationsSettings.from_environment()
