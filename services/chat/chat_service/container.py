"""Builds the chat service's long-lived objects once per process, from settings."""

import os
import socket
import uuid
from dataclasses import dataclass

from chat_service.domain.chats import Chats
from chat_service.domain.fanout import FanOut
from chat_service.domain.messages import Messages
from chat_service.domain.ratelimit import FrameRateLimit
from chat_service.domain.sockets import SocketServer
from chat_service.events.handlers import event_handlers
from chat_service.models import outbox, processed_events
from chat_service.settings import ChatSettings
from service_kit.runtime import ServiceRuntime


def replica_name() -> str:
    """Unique per process (and per app in tests), shown to clients in the socket's hello frame."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


@dataclass
class ChatContainer:
    settings: ChatSettings
    runtime: ServiceRuntime
    fanout: FanOut
    chats: Chats
    sockets: SocketServer

    @classmethod
    def build(cls, settings: ChatSettings) -> "ChatContainer":
        runtime = ServiceRuntime(settings, outbox=outbox, processed_events=processed_events)
        replica = replica_name()
        fanout = FanOut(
            settings.redis_url,
            runtime.redis,
            settings.namespace,
            replica,
            reconnect_seconds=settings.fanout_reconnect_seconds,
        )
        runtime.consume(event_handlers(runtime, fanout))
        chats = Chats(runtime.outbox)
        sockets = SocketServer(
            database=runtime.database,
            verifier=runtime.verifier,
            fanout=fanout,
            chats=chats,
            messages=Messages(runtime.outbox),
            rate_limit=FrameRateLimit(
                runtime.redis, settings.namespace, settings.message_rate_limit, settings.message_rate_window_seconds
            ),
            replica=replica,
            queue_size=settings.socket_queue_size,
            replay_limit=settings.replay_limit,
            max_length=settings.message_max_length,
            token_check_seconds=settings.socket_token_check_seconds,
        )
        return cls(settings=settings, runtime=runtime, fanout=fanout, chats=chats, sockets=sockets)
