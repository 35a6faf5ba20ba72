"""Requests service settings, from the environment (see deploy/local.env for development values)."""

from functools import lru_cache

from pydantic import Field

from marketplace_rules.money import CurrencyRates
from service_kit.settings import ServiceSettings


class RequestsSettings(ServiceSettings):
    service_name: str = "requests"

    currency_rates: CurrencyRates
    list_max_limit: int = Field(default=100, ge=1, le=1000)


@lru_cache
def get_settings() -> RequestsSettings:
    return RequestsSettings.from_environment()
