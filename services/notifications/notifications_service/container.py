"""Builds the notifications service's long-lived objects once per process, from settings."""

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import timedelta

from event_contracts.presence import chat_presence_prefix
from notifications_service.api.live import LiveUserFeed
from notifications_service.api.socket_server import SocketServer
from notifications_service.api.user_socket import SocketServices
from notifications_service.domain.fcm import FcmProvider, ServiceAccount
from notifications_service.domain.notifier import Notifier, PushPolicy
from notifications_service.domain.push import ConsolePushProvider, PushProvider
from notifications_service.domain.rustore import RuStoreProvider
from notifications_service.events.handlers import event_handlers
from notifications_service.models import outbox, processed_events
from notifications_service.push_worker import PushWorker
from notifications_service.settings import NotificationsSettings, PushProviderName
from service_kit.fanout import FanOut
from service_kit.presence import Presence
from service_kit.ratelimit import WindowRateLimit
from service_kit.runtime import ServiceRuntime

ALL_PLATFORMS = frozenset({"fcm", "rustore", "apns", "webpush"})


def replica_name() -> str:
    """Unique per process (and per app in tests), shown to clients in the socket's hello frame."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


def push_providers(settings: NotificationsSettings) -> list[PushProvider]:
    """One provider per configured name; the settings refuse a provider without its credentials."""
    providers: list[PushProvider] = []
    for name in dict.fromkeys(settings.push_providers):
        if name is PushProviderName.CONSOLE:
            providers.append(ConsolePushProvider(ALL_PLATFORMS))
        elif name is PushProviderName.FCM:
            assert settings.fcm_credentials_path is not None
            account = ServiceAccount.from_file(settings.fcm_credentials_path)
            providers.append(FcmProvider(account, settings.fcm_base_url, settings.push_timeout_seconds))
        else:
            assert settings.rustore_project_id and settings.rustore_service_token
            providers.append(
                RuStoreProvider(
                    settings.rustore_project_id,
                    settings.rustore_service_token.get_secret_value(),
                    settings.rustore_base_url,
                    settings.push_timeout_seconds,
                )
            )
    return providers


@dataclass
class NotificationsContainer:
    settings: NotificationsSettings
    runtime: ServiceRuntime
    fanout: FanOut
    providers: list[PushProvider]
    push_worker: PushWorker
    notifier: Notifier
    sockets: SocketServer

    @classmethod
    def build(cls, settings: NotificationsSettings) -> "NotificationsContainer":
        runtime = ServiceRuntime(settings, outbox=outbox, processed_events=processed_events)
        replica = replica_name()
        fanout = FanOut(
            settings.redis_url,
            runtime.redis,
            prefix=f"{settings.namespace}:notifications:user:",
            client_name=f"notifications-fanout-{replica}",
            reconnect_seconds=settings.fanout_reconnect_seconds,
        )
        providers = push_providers(settings)
        max_age = timedelta(seconds=settings.push_max_age_seconds)
        push_worker = PushWorker(
            runtime.database,
            providers,
            batch_size=settings.push_batch_size,
            poll_seconds=settings.push_poll_seconds,
            max_attempts=settings.push_max_attempts,
            max_age=max_age,
            ttl_seconds=settings.push_max_age_seconds,
        )
        notifier = Notifier(
            Presence(
                runtime.redis,
                chat_presence_prefix(settings.namespace),
                read_timeout_seconds=settings.presence_timeout_seconds,
            ),
            LiveUserFeed(fanout),
            push_worker.wake,
            PushPolicy(
                platforms=push_worker.platforms,
                message_window=timedelta(seconds=settings.message_push_window_seconds),
                max_age=max_age,
            ),
        )
        sockets = SocketServer(
            SocketServices(
                database=runtime.database,
                notifier=notifier,
                channels=fanout,
                rate_limit=WindowRateLimit(
                    runtime.redis,
                    f"{settings.namespace}:notifications:rate:",
                    settings.frame_rate_limit,
                    settings.frame_rate_window_seconds,
                ),
                verifier=runtime.verifier,
                replica=replica,
                queue_size=settings.socket_queue_size,
                replay_limit=settings.replay_limit,
                token_check_seconds=settings.socket_token_check_seconds,
            )
        )
        runtime.consume(event_handlers(runtime, notifier))
        return cls(
            settings=settings,
            runtime=runtime,
            fanout=fanout,
            providers=providers,
            push_worker=push_worker,
            notifier=notifier,
            sockets=sockets,
        )

    async def close_providers(self) -> None:
        for provider in self.providers:
            await provider.close()
