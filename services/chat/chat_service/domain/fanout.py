"""Fan-out between replicas through Redis pub/sub.

Every replica publishes what happened in a chat to the chat's channel and
subscribes only to the channels of chats that have sockets on it. One
subscriber connection per replica, with no silent retries: when it breaks,
the listener reconnects, subscribes again and tells every local socket to
catch up from PostgreSQL, so messages published meanwhile are not lost.
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

# A silent Redis (no FIN, no answers) is detected by pings that get no pong.
PING_SECONDS = 5.0
SILENCE_SECONDS = 15.0
SUBSCRIBE_WAIT_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class Frame:
    """A server frame for sockets: its JSON text is built once and shared by every socket."""

    type: str
    text: str
    data: dict[str, Any]

    @classmethod
    def of(cls, data: dict[str, Any]) -> "Frame":
        return cls(str(data["type"]), json.dumps(data, ensure_ascii=False), data)


class Listener(Protocol):
    chat_id: int

    def deliver(self, frame: Frame) -> None: ...

    def resync(self) -> None: ...


class FanOut:
    def __init__(
        self, redis_url: str, publisher: Redis, namespace: str, replica: str, reconnect_seconds: float = 1.0
    ) -> None:
        # A connection of its own, without redis-py's transparent reconnects: a reconnect
        # must be noticed, because what was published during it has to be recovered.
        self._redis = Redis.from_url(
            redis_url, retry=Retry(NoBackoff(), 0), socket_connect_timeout=5, client_name=f"chat-fanout-{replica}"
        )
        self._publisher = publisher
        self._prefix = f"{namespace}:chat:"
        self._control = f"{self._prefix}replica:{replica}"
        self._local: dict[int, set[Listener]] = defaultdict(set)
        self._pubsub: PubSub | None = None
        # Channels a SUBSCRIBE was sent for, and how many confirmations are still due.
        self._subscribed: dict[str, asyncio.Event] = {}
        self._pending: dict[str, int] = defaultdict(int)
        self._resubscribed: set[str] = set()
        # SUBSCRIBE and UNSUBSCRIBE go out one at a time, in the order they were decided on:
        # an UNSUBSCRIBE decided before a join can never overtake that join's SUBSCRIBE.
        self._commands = asyncio.Lock()
        self.reconnect_seconds = reconnect_seconds
        self.listening = False

    def channel(self, chat_id: int) -> str:
        return f"{self._prefix}{chat_id}"

    async def publish(self, chat_id: int, data: dict[str, Any]) -> None:
        await self._publisher.publish(self.channel(chat_id), json.dumps(data, ensure_ascii=False))

    async def join(self, listener: Listener) -> None:
        """Starts delivering the chat's frames to ``listener``; returns once Redis confirmed the subscription."""
        self._local[listener.chat_id].add(listener)
        channel = self.channel(listener.chat_id)
        event = self._subscribed.get(channel)
        if event is None:
            event = self._subscribed[channel] = asyncio.Event()
            if not await self._subscribe(channel):
                return
        if self.listening:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), SUBSCRIBE_WAIT_SECONDS)

    def leave(self, listener: Listener) -> None:
        """The listener loop unsubscribes channels nobody here listens to any more."""
        listeners = self._local.get(listener.chat_id)
        if listeners is not None:
            listeners.discard(listener)
            if not listeners:
                del self._local[listener.chat_id]

    def local_listeners(self) -> int:
        return sum(len(listeners) for listeners in self._local.values())

    async def _subscribe(self, channel: str) -> bool:
        if self._pubsub is None or not self.listening:
            return False  # the listener subscribes everything local once it is connected again
        pubsub = self._pubsub
        try:
            async with self._commands:
                if channel not in self._subscribed or pubsub is not self._pubsub:
                    return False  # dropped (every listener left) or reconnected while waiting
                self._pending[channel] += 1
                await pubsub.subscribe(channel)
        except Exception:
            logger.warning("cannot subscribe to a chat channel; the listener will retry")
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
                    logger.warning("chat fan-out lost Redis; resubscribing")
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
        # Everything local is subscribed again and, once confirmed, caught up from PostgreSQL.
        self._resubscribed = {self.channel(chat_id) for chat_id in self._local}
        for channel in self._resubscribed:
            self._subscribed[channel] = asyncio.Event()
            await self._subscribe(channel)
        loop = asyncio.get_running_loop()
        last_heard = last_ping = loop.time()
        while True:
            await self._drop_unused(pubsub)
            message = await pubsub.get_message(timeout=1.0)
            now = loop.time()
            if message is not None:
                last_heard = now
                self._dispatch(message)
            if now - last_ping >= PING_SECONDS:
                await pubsub.ping()
                last_ping = now
            if now - last_heard > SILENCE_SECONDS:
                raise ConnectionError("Redis stopped answering the fan-out subscriber")

    async def _drop_unused(self, pubsub: PubSub) -> None:
        wanted = {self.channel(chat_id) for chat_id in self._local}
        for channel in [channel for channel in self._subscribed if channel not in wanted]:
            async with self._commands:
                # Checked again right before each drop (earlier UNSUBSCRIBEs awaited): a socket that
                # joined meanwhile keeps the channel. The check, the del and the send happen under the
                # lock with no await before the send, so a later join sees no entry and subscribes anew,
                # and its SUBSCRIBE waits for the lock, so it reaches Redis after this UNSUBSCRIBE.
                if channel not in self._subscribed or self._local.get(self._chat_id(channel)):
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
                    for listener in list(self._local.get(self._chat_id(channel), ())):
                        listener.resync()
        elif kind == "message" and channel != self._control:
            try:
                frame = Frame.of(json.loads(message["data"]))
            except (ValueError, KeyError, TypeError):
                logger.error("malformed fan-out frame ignored", extra={"channel": channel})
                return
            for listener in list(self._local.get(self._chat_id(channel), ())):
                listener.deliver(frame)

    def _chat_id(self, channel: str) -> int:
        return int(channel.removeprefix(self._prefix))
