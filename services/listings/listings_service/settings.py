"""Listings service settings, from the environment (see deploy/local.env for development values)."""

from functools import lru_cache

from service_kit.settings import ServiceSettings


class ListingsSettings(ServiceSettings):
    service_name: str = "listings"


@lru_cache
def get_settings() -> ListingsSettings:
    return ListingsSettings.from_environment()
