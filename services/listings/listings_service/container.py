"""Builds the listings service's long-lived objects once per process, from settings."""

from dataclasses import dataclass

from listings_service.events.handlers import event_handlers
from listings_service.models import outbox, processed_events
from listings_service.settings import ListingsSettings
from service_kit.runtime import ServiceRuntime


@dataclass
class ListingsContainer:
    settings: ListingsSettings
    runtime: ServiceRuntime

    @classmethod
    def build(cls, settings: ListingsSettings) -> "ListingsContainer":
        runtime = ServiceRuntime(settings, outbox=outbox, processed_events=processed_events)
        runtime.consume(event_handlers(runtime))
        return cls(settings=settings, runtime=runtime)
