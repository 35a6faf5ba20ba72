"""Listings service settings, from the environment (see deploy/local.env for development values)."""

from functools import lru_cache
from pathlib import Path
from typing import Self

from pydantic import Field, model_validator

from service_kit.settings import ServiceSettings
from service_kit.vocabulary import vocabulary

MIB = 1024 * 1024


class ListingsSettings(ServiceSettings):
    service_name: str = "listings"

    # RUB per unit of each currency (env CURRENCY_RATES as JSON); requests must use the same table.
    currency_rates: dict[str, float] = Field(default_factory=lambda: {"RUB": 1.0, "USD": 90.0, "EUR": 98.0})

    media_dir: Path = Path("var/media/listings")
    media_url_prefix: str = "/media/listings"
    max_image_bytes: int = Field(default=10 * MIB, ge=1)
    max_pdf_bytes: int = Field(default=20 * MIB, ge=1)
    max_images: int = Field(default=30, ge=1)
    # The gateway cuts multipart bodies at 60 MiB; the same cap here protects direct callers.
    max_upload_bytes: int = Field(default=60 * MIB, ge=1)
    max_image_pixels: int = Field(default=40_000_000, ge=1)
    page_max_limit: int = Field(default=100, ge=1)

    @model_validator(mode="after")
    def _every_currency_has_a_rate(self) -> Self:
        missing = [code for code in vocabulary("currency").codes if code not in self.currency_rates]
        if missing:
            raise ValueError(f"CURRENCY_RATES lacks a rate for {', '.join(missing)}")
        if any(rate <= 0 for rate in self.currency_rates.values()):
            raise ValueError("CURRENCY_RATES must be positive")
        return self


@lru_cache
def get_settings() -> ListingsSettings:
    return ListingsSettings.from_environment()
