"""Builds the chat service's long-lived objects once per process, from settings."""

import os
import socket
import uuid
from dataclasses import dataclass

from chat_service.api.chat_socket import SocketServices
from chat_service.api.socket_server import SocketServer
from chat_service.domain.chats import ChatService
from chat_service.events.handlers import event_handlers
from chat_service.models import outbox, processed_events
from chat_service.settings import ChatSettings
from event_contracts.presence import chat_presence_prefix
from service_kit.fanout import FanOut
from service_kit.presence import Presence
from service_kit.ratelimit import WindowRateLimit
from service_kit.runtime import ServiceRuntime


def replica_name() -> str:
    """Unique per process (and per app in tests), shown to clients in the socket's hello frame."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


@dataclass
class ChatContainer:
    settings: ChatSettings
    runtime: ServiceRuntime
    fanout: FanOut
    presence: Presence
    chats: ChatService
    sockets: SocketServer

    @classmethod
    def build(cls, settings: ChatSettings) -> "ChatContainer":
        runtime = ServiceRuntime(settings, outbox=outbox, processed_events=processed_events)
        replica = replica_name()
        fanout = FanOut(
            settings.redis_url,
            runtime.redis,
            prefix=f"{settings.namespace}:chat:",
            client_name=f"chat-fanout-{replica}",
            reconnect_seconds=settings.fanout_reconnect_seconds,
        )
        presence = Presence(
            runtime.redis, chat_presence_prefix(settings.namespace), ttl_seconds=settings.presence_ttl_seconds
        )
        chats = ChatService(runtime.outbox, max_message_length=settings.message_max_length)
        sockets = SocketServer(
            SocketServices(
                database=runtime.database,
                chats=chats,
                channels=fanout,
                presence=presence,
                rate_limit=WindowRateLimit(
                    runtime.redis,
                    f"{settings.namespace}:chat:rate:",
                    settings.message_rate_limit,
                    settings.message_rate_window_seconds,
                ),
                verifier=runtime.verifier,
                replica=replica,
                queue_size=settings.socket_queue_size,
                replay_limit=settings.replay_limit,
                token_check_seconds=settings.socket_token_check_seconds,
            )
        )
        runtime.consume(event_handlers(runtime, chats, sockets.tell_chats_closed))
        return cls(settings=settings, runtime=runtime, fanout=fanout, presence=presence, chats=chats, sockets=sockets)
