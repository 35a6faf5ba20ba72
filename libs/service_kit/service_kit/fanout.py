"""Fan-out between replicas through Redis pub/sub: one channel per key, listeners local to each replica.

A key is whatever a service pushes to: a chat id (chat sockets), a user id (a
user's notification sockets). Every replica publishes to the key's channel and
subscribes only to the channels of keys that have listeners on it. One
subscriber connection per replica, with no silent retries: when it breaks (or
Redis stops answering), the loop reconnects, subscribes every local key again
and, once Redis confirmed a channel, calls ``resync`` on its listeners, so they
recover what was published meanwhile from the store that is the truth.

Listeners must not block: ``deliver`` is called from the subscriber loop, so it
may only hand the frame on (a non-blocking put into the listener's own queue).
"""

import asyncio
import contextlib
import json
import logging
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Protocol

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

logger = logging.getLogger(__name__)

Key = str | int


@dataclass(frozen=True, slots=True)
class Frame:
    """A JSON object with a ``type``, pushed to sockets: its text is built once and shared by every listener."""

    type: str
    text: str
    data: dict[str, Any]

    @classmethod
    def of(cls, data: dict[str, Any]) -> "Frame":
        return cls(str(data["type"]), json.dumps(data, ensure_ascii=False), data)


class Listener(Protocol):
    def deliver(self, frame: Frame) -> None: ...

    def resync(self) -> None: ...


class FanOut:
    def __init__(
        self,
        redis_url: str,
        publisher: Redis,
        *,
        prefix: str,
        client_name: str,
        reconnect_seconds: float = 1.0,
        ping_seconds: float = 5.0,
        silence_seconds: float = 15.0,
        subscribe_wait_seconds: float = 5.0,
    ) -> None:
        """Channels are ``prefix`` + key; ``client_name`` names the subscriber connection in Redis (unique per replica).

        A silent Redis (no FIN, no answers) is detected by pings every ``ping_seconds`` that get
        no pong within ``silence_seconds``.
        """
        # A connection of its own, without redis-py's transparent reconnects: a reconnect
        # must be noticed, because what was published during it has to be recovered.
        self._redis = Redis.from_url(
            redis_url, retry=Retry(NoBackoff(), 0), socket_connect_timeout=5, client_name=client_name
        )
        self._publisher = publisher
        self._prefix = prefix
        self.client_name = client_name
        # Subscribed first on every connection, so the subscriber always has a channel to ping on.
        self._control = f"{prefix}replica:{client_name}"
        self._local: dict[str, set[Listener]] = defaultdict(set)  # channel -> listeners here
        self._pubsub: PubSub | None = None
        # Channels a SUBSCRIBE was sent for, and how many confirmations are still due.
        self._subscribed: dict[str, asyncio.Event] = {}
        self._pending: dict[str, int] = defaultdict(int)
        self._resubscribed: set[str] = set()
        # SUBSCRIBE and UNSUBSCRIBE go out one at a time, in the order they were decided on:
        # an UNSUBSCRIBE decided before a join can never overtake that join's SUBSCRIBE.
        self._commands = asyncio.Lock()
        self.reconnect_seconds = reconnect_seconds
        self.ping_seconds = ping_seconds
        self.silence_seconds = silence_seconds
        self.subscribe_wait_seconds = subscribe_wait_seconds
        self.listening = False

    def channel(self, key: Key) -> str:
        return f"{self._prefix}{key}"

    async def publish(self, key: Key, data: dict[str, Any]) -> None:
        """Sends ``data`` (a JSON object with a ``type``) to the key's listeners on every replica."""
        await self._publisher.publish(self.channel(key), json.dumps(data, ensure_ascii=False))

    async def join(self, key: Key, listener: Listener) -> None:
        """Starts delivering the key's frames to ``listener``; returns once Redis confirmed the subscription.

        While the subscriber is disconnected it returns at once: the reconnect subscribes the key
        and calls ``listener.resync``.
        """
        channel = self.channel(key)
        self._local[channel].add(listener)
        event = self._subscribed.get(channel)
        if event is None:
            event = self._subscribed[channel] = asyncio.Event()
            if not await self._subscribe(channel):
                return
        if self.listening:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), self.subscribe_wait_seconds)

    def leave(self, key: Key, listener: Listener) -> None:
        """The subscriber loop unsubscribes channels nobody here listens to any more."""
        channel = self.channel(key)
        listeners = self._local.get(channel)
        if listeners is not None:
            listeners.discard(listener)
            if not listeners:
                del self._local[channel]

    def local_listeners(self) -> int:
        return sum(len(listeners) for listeners in self._local.values())

    async def _subscribe(self, channel: str) -> bool:
        if self._pubsub is None or not self.listening:
            return False  # the loop subscribes everything local once it is connected again
        pubsub = self._pubsub
        try:
            async with self._commands:
                if channel not in self._subscribed or pubsub is not self._pubsub:
                    return False  # dropped (every listener left) or reconnected while waiting
                self._pending[channel] += 1
                await pubsub.subscribe(channel)
        except Exception:
            logger.warning("cannot subscribe to a fan-out channel; the subscriber will retry")
            return False
        return True

    async def run(self) -> None:
        """Listens until cancelled, reconnecting after any Redis failure."""
        try:
            while True:
                try:
                    async with self._redis.pubsub() as pubsub:
                        await self._listen(pubsub)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    logger.warning("fan-out lost Redis; resubscribing", extra={"client_name": self.client_name})
                finally:
                    self.listening = False
                    self._pubsub = None
                await asyncio.sleep(self.reconnect_seconds)
        finally:
            await self._redis.aclose()

    async def _listen(self, pubsub: PubSub) -> None:
        self._subscribed.clear()
        self._pending.clear()
        await pubsub.subscribe(self._control)
        self._pubsub = pubsub
        self.listening = True
        # Everything local is subscribed again and, once confirmed, resynced.
        self._resubscribed = set(self._local)
        for channel in self._resubscribed:
            self._subscribed[channel] = asyncio.Event()
            await self._subscribe(channel)
        loop = asyncio.get_running_loop()
        last_heard = last_ping = loop.time()
        while True:
            await self._drop_unused(pubsub)
            message = await pubsub.get_message(timeout=min(1.0, self.ping_seconds))
            now = loop.time()
            if message is not None:
                last_heard = now
                self._dispatch(message)
            if now - last_ping >= self.ping_seconds:
                await pubsub.ping()
                last_ping = now
            if now - last_heard > self.silence_seconds:
                raise ConnectionError("Redis stopped answering the fan-out subscriber")

    async def _drop_unused(self, pubsub: PubSub) -> None:
        for channel in [channel for channel in self._subscribed if channel not in self._local]:
            async with self._commands:
                # Checked again right before each drop (earlier UNSUBSCRIBEs awaited): a listener that
                # joined meanwhile keeps the channel. The check, the del and the send happen under the
                # lock with no await before the send, so a later join sees no entry and subscribes anew,
                # and its SUBSCRIBE waits for the lock, so it reaches Redis after this UNSUBSCRIBE.
                if channel not in self._subscribed or self._local.get(channel):
                    continue
                del self._subscribed[channel]
                await pubsub.unsubscribe(channel)

    def _dispatch(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        channel = message["channel"].decode() if isinstance(message.get("channel"), bytes) else message["channel"]
        if kind == "subscribe" and channel in self._pending:
            self._pending[channel] -= 1
            event = self._subscribed.get(channel)
            if self._pending[channel] <= 0 and event is not None:
                del self._pending[channel]
                event.set()
                if channel in self._resubscribed:
                    self._resubscribed.discard(channel)
                    for listener in list(self._local.get(channel, ())):
                        listener.resync()
        elif kind == "message" and channel != self._control:
            try:
                frame = Frame.of(json.loads(message["data"]))
            except (ValueError, KeyError, TypeError):
                logger.error("malformed fan-out frame ignored", extra={"channel": channel})
                return
            for listener in list(self._local.get(channel, ())):
                listener.deliver(frame)
