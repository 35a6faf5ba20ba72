"""Requests service settings, from the environment (see deploy/local.env for development values)."""

from functools import lru_cache

from pydantic import Field

from service_kit.settings import ServiceSettings
from service_kit.vocabulary import CurrencyRates


class RequestsSettings(ServiceSettings):
    service_name: str = "requests"

    currency_rates: CurrencyRates
    list_max_limit: int = Field(default=100, ge=1, le=1000)


@lru_cache
def get_settings() -> RequestsSettings:
    return RequestsSettings.from_environment()
