"""Listings service settings, from the environment (see deploy/local.env for development values)."""

from functools import lru_cache
from pathlib import Path

from pydantic import Field

from marketplace_rules.money import CurrencyRates
from service_kit.settings import ServiceSettings

MIB = 1024 * 1024


class ListingsSettings(ServiceSettings):
    service_name: str = "listings"

    currency_rates: CurrencyRates

    media_dir: Path = Path("var/media/listings")
    media_url_prefix: str = "/media/listings"
    max_image_bytes: int = Field(default=10 * MIB, ge=1)
    max_pdf_bytes: int = Field(default=20 * MIB, ge=1)
    max_images: int = Field(default=30, ge=1)
    # The gateway cuts multipart bodies at 60 MiB; the same cap here protects direct callers.
    max_upload_bytes: int = Field(default=60 * MIB, ge=1)
    max_image_pixels: int = Field(default=40_000_000, ge=1)
    page_max_limit: int = Field(default=100, ge=1)
    # Owners' phones one user may reveal (POST /properties/{id}/contact) per window: no harvesting.
    contact_reveal_limit: int = Field(default=60, ge=1)
    contact_reveal_window_seconds: int = Field(default=3600, ge=1)


@lru_cache
def get_settings() -> ListingsSettings:
    return ListingsSettings.from_environment()
