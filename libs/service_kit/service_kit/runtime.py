"""The connections and background work every service runs; a service adds its own parts.

One ``ServiceRuntime`` per process: database, Redis, token verification (public
keys plus the revocation list), the outbox relay and, if the service consumes
events, its deduplicating consumer. ``lifespan`` starts and stops all of it.
"""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import Any

from fastapi import APIRouter, FastAPI
from redis.asyncio import Redis
from sqlalchemy import Table

from service_kit.app import ErrorAnswer, ReadinessCheck, create_service_app
from service_kit.db import Database
from service_kit.events.consumer import EventConsumer, Subscription
from service_kit.events.outbox import Outbox
from service_kit.events.relay import OutboxRelay
from service_kit.events.topology import Topology, subscriptions
from service_kit.logging import configure_logging
from service_kit.security import KeySet, RemoteKeySet, RevocationFeed, RevocationList, TokenVerifier
from service_kit.settings import ServiceSettings
from service_kit.tasks import cancel_and_wait

logger = logging.getLogger(__name__)


async def _run(job: Callable[[], Awaitable[None]]) -> None:
    await job()


class ServiceRuntime:
    def __init__(
        self,
        settings: ServiceSettings,
        *,
        outbox: Table,
        processed_events: Table,
        keys: KeySet | None = None,
    ) -> None:
        configure_logging(settings.service_name, settings.log_level, settings.log_json)
        self.settings = settings
        self.database = Database(settings.database_url)
        self.redis = Redis.from_url(settings.redis_url)
        self.revocations = RevocationList()
        self.revocation_feed = RevocationFeed(self.redis, settings.namespace, self.revocations)
        self.keys = keys if keys is not None else RemoteKeySet(settings.jwks_url)
        self.verifier = TokenVerifier(self.keys, self.revocations)
        self.topology = Topology(settings.namespace)
        self.outbox = Outbox(outbox, producer=settings.service_name)
        self.relay = OutboxRelay(
            self.database, outbox, settings.rabbitmq_url, self.topology, poll_seconds=settings.outbox_poll_seconds
        )
        self._processed_events = processed_events
        self.consumer: EventConsumer | None = None
        self._tasks: list[asyncio.Task[Any]] = []

    def consume(self, handlers: Sequence[Subscription[Any]]) -> None:
        """Subscribes the service's own queue to these event models (as contracts/subscriptions.json lists)."""
        consumer = EventConsumer(
            self.database,
            self._processed_events,
            self.settings.rabbitmq_url,
            self.topology,
            self.settings.service_name,
            handlers,
            prefetch=self.settings.event_prefetch,
        )
        declared = set(subscriptions().get(self.settings.service_name, []))
        if declared != set(consumer.event_types):
            raise RuntimeError(
                f"{self.settings.service_name} handles {consumer.event_types} but contracts/subscriptions.json "
                f"binds its queue to {sorted(declared)}"
            )
        self.consumer = consumer

    async def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self.relay.run(), name="outbox-relay"),
            asyncio.create_task(self.revocation_feed.follow(), name="revocation-feed"),
        ]
        if isinstance(self.keys, RemoteKeySet):
            self._tasks.append(asyncio.create_task(self._fetch_keys(self.keys), name="jwks"))
        if self.consumer is not None:
            self._tasks.append(asyncio.create_task(self._consume(self.consumer), name="event-consumer"))

    async def stop(self) -> None:
        await cancel_and_wait(self._tasks)
        if self.consumer is not None:
            with contextlib.suppress(Exception):
                await self.consumer.stop()
        await self.redis.aclose()
        await self.database.dispose()

    @staticmethod
    async def _fetch_keys(keys: RemoteKeySet) -> None:
        """The auth service may start later than this one: keep trying until the keys are here."""
        while True:
            if len(keys) or await keys.refresh():
                return
            await asyncio.sleep(2)

    @staticmethod
    async def _consume(consumer: EventConsumer) -> None:
        while True:
            try:
                await consumer.start()
                return
            except Exception:
                logger.warning("cannot subscribe to events yet; retrying")
                await consumer.stop()
                await asyncio.sleep(2)

    def build_app(
        self,
        container: Any,
        *,
        description: str,
        routers: Sequence[APIRouter],
        errors: Mapping[type[Exception], ErrorAnswer],
        lifespan: Callable[[FastAPI], contextlib.AbstractAsyncContextManager[None]] | None = None,
        readiness: Mapping[str, ReadinessCheck] | None = None,
    ) -> FastAPI:
        """The service's app: what differs between services is passed in, the rest is the kit's.

        The kit's dependencies (service_kit.api) find ``container``, ``database`` and
        ``token_verifier`` on ``app.state``; ``readiness`` adds checks to the runtime's own.
        """
        name = self.settings.service_name
        return create_service_app(
            service=name,
            title=f"Marketplace {name} service",
            version="1.0.0",
            description=description,
            lifespan=lifespan or self.lifespan(),
            readiness=lambda _: {**self.readiness(), **(readiness or {})},
            routers=routers,
            errors=errors,
            state={"container": container, "database": self.database, "token_verifier": self.verifier},
        )

    def readiness(self) -> dict[str, ReadinessCheck]:
        async def database() -> None:
            await self.database.ping()

        async def redis() -> None:
            await self.redis.ping()

        async def rabbitmq() -> None:
            if not self.relay.connected or (self.consumer is not None and not self.consumer.connected):
                raise ConnectionError("not connected to RabbitMQ")

        async def signing_keys() -> None:
            if not len(self.keys):
                raise LookupError("no public signing keys yet")

        return {"database": database, "redis": redis, "rabbitmq": rabbitmq, "signing_keys": signing_keys}

    def lifespan(
        self,
        on_start: Callable[[], Awaitable[None]] | None = None,
        background: Sequence[Callable[[], Awaitable[None]]] = (),
    ) -> Callable[[FastAPI], contextlib.AbstractAsyncContextManager[None]]:
        """Starts the runtime (after ``on_start``) and the service's own ``background`` loops."""

        @contextlib.asynccontextmanager
        async def lifespan(_: FastAPI) -> AsyncIterator[None]:
            if on_start is not None:
                await on_start()
            await self.start()
            self._tasks += [asyncio.create_task(_run(job)) for job in background]
            try:
                yield
            finally:
                await self.stop()

        return lifespan
