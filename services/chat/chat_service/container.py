"""Builds the chat service's long-lived objects once per process, from settings."""

from dataclasses import dataclass

from chat_service.events.handlers import event_handlers
from chat_service.models import outbox, processed_events
from chat_service.settings import ChatSettings
from service_kit.runtime import ServiceRuntime


@dataclass
class ChatContainer:
    settings: ChatSettings
    runtime: ServiceRuntime

    @classmethod
    def build(cls, settings: ChatSettings) -> "ChatContainer":
        runtime = ServiceRuntime(settings, outbox=outbox, processed_events=processed_events)
        runtime.consume(event_handlers(runtime))
        return cls(settings=settings, runtime=runtime)
