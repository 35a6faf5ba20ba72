"""Requests service settings, from the environment (see deploy/local.env for development values)."""

from functools import lru_cache
from typing import Self

from pydantic import Field, model_validator

from service_kit.settings import ServiceSettings


class RequestsSettings(ServiceSettings):
    service_name: str = "requests"

    # RUB per unit of each currency (env CURRENCY_RATES, JSON); listings uses the same table.
    currency_rates: dict[str, float] = Field(default_factory=lambda: {"RUB": 1.0, "USD": 90.0, "EUR": 98.0})
    list_max_limit: int = Field(default=100, ge=1, le=1000)

    @model_validator(mode="after")
    def _rates_are_usable(self) -> Self:
        if self.currency_rates.get("RUB") != 1:
            raise ValueError("CURRENCY_RATES must give RUB the rate 1")
        if any(rate <= 0 for rate in self.currency_rates.values()):
            raise ValueError("CURRENCY_RATES must be positive")
        return self


@lru_cache
def get_settings() -> RequestsSettings:
    return RequestsSettings.from_environment()
