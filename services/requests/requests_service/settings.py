"""Requests service settings, from the environment (see deploy/local.env for development values)."""

from functools import lru_cache

from service_kit.settings import ServiceSettings


class RequestsSettings(ServiceSettings):
    service_name: str = "requests"


@lru_cache
def get_settings() -> RequestsSettings:
    return RequestsSettings.from_environment()
