"""Builds the listings service's long-lived objects once per process, from settings."""

from dataclasses import dataclass

from listings_service.domain.listings import Listings
from listings_service.domain.media import UploadLimits
from listings_service.events.handlers import event_handlers
from listings_service.models import outbox, processed_events
from listings_service.settings import ListingsSettings
from service_kit.ratelimit import WindowRateLimit
from service_kit.runtime import ServiceRuntime
from service_kit.uploads import MediaStore


@dataclass
class ListingsContainer:
    settings: ListingsSettings
    runtime: ServiceRuntime
    media: MediaStore
    listings: Listings
    upload_limits: UploadLimits
    contact_reveals: WindowRateLimit

    @classmethod
    def build(cls, settings: ListingsSettings) -> "ListingsContainer":
        runtime = ServiceRuntime(settings, outbox=outbox, processed_events=processed_events)
        media = MediaStore(settings.media_dir, settings.media_url_prefix)
        listings = Listings(outbox=runtime.outbox, media=media, rates=settings.currency_rates)
        runtime.consume(event_handlers(runtime, listings))
        limits = UploadLimits(
            max_image_bytes=settings.max_image_bytes,
            max_pdf_bytes=settings.max_pdf_bytes,
            max_images=settings.max_images,
            max_total_bytes=settings.max_upload_bytes,
            max_image_pixels=settings.max_image_pixels,
        )
        reveals = WindowRateLimit(
            runtime.redis,
            f"{settings.namespace}:listings:contact:",
            settings.contact_reveal_limit,
            settings.contact_reveal_window_seconds,
        )
        return cls(
            settings=settings,
            runtime=runtime,
            media=media,
            listings=listings,
            upload_limits=limits,
            contact_reveals=reveals,
        )
