"""Builds the requests service's long-lived objects once per process, from settings."""

from dataclasses import dataclass

from requests_service.domain.search_requests import BuyerRequests
from requests_service.events.handlers import event_handlers
from requests_service.models import outbox, processed_events
from requests_service.settings import RequestsSettings
from service_kit.runtime import ServiceRuntime


@dataclass
class RequestsContainer:
    settings: RequestsSettings
    runtime: ServiceRuntime
    requests: BuyerRequests

    @classmethod
    def build(cls, settings: RequestsSettings) -> "RequestsContainer":
        runtime = ServiceRuntime(settings, outbox=outbox, processed_events=processed_events)
        runtime.consume(event_handlers(runtime))
        requests = BuyerRequests(outbox=runtime.outbox, rates=settings.currency_rates)
        return cls(settings=settings, runtime=runtime, requests=requests)
