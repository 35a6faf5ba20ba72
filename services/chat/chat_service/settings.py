"""Chat service settings, from the environment (see deploy/local.env for development values)."""

from functools import lru_cache

from service_kit.settings import ServiceSettings


class ChatSettings(ServiceSettings):
    service_name: str = "chat"


@lru_cache
def get_settings() -> ChatSettings:
    return ChatSettings.from_environment()
