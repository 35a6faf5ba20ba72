"""The generic Redis fan-out against the real Redis: several FanOut instances are several replicas."""

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import pytest
from redis.asyncio import Redis

from service_kit.fanout import FanOut, Frame
from service_kit.tasks import cancel_and_wait
from service_kit.testing import REDIS_URL, run_id

from .conftest import wait_for


class Inbox:
    """A listener that keeps what it was given (a socket would put it into its own queue)."""

    def __init__(self) -> None:
        self.frames: list[Frame] = []
        self.resyncs = 0

    def deliver(self, frame: Frame) -> None:
        self.frames.append(frame)

    def resync(self) -> None:
        self.resyncs += 1

    def texts(self) -> list[Any]:
        return [frame.data.get("text") for frame in self.frames]


StartFanOut = Callable[..., Awaitable[FanOut]]


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    client = Redis.from_url(REDIS_URL)
    yield client
    await client.aclose()


@pytest.fixture
async def replicas(redis: Redis) -> AsyncIterator[StartFanOut]:
    """Starts FanOut instances on one prefix of this test; each one's subscriber runs until the test ends."""
    prefix = f"test-{run_id()}:fan:"
    tasks: list[asyncio.Task[None]] = []

    async def start(redis_url: str = REDIS_URL, **options: Any) -> FanOut:
        fanout = FanOut(redis_url, redis, prefix=prefix, client_name=f"fanout-test-{run_id()}", **options)
        tasks.append(asyncio.create_task(fanout.run()))
        await wait_for(lambda: _true(fanout.listening), what="the subscriber to connect")
        return fanout

    yield start
    await cancel_and_wait(tasks)


async def _true(value: bool) -> bool:
    return value


async def subscribers(redis: Redis, fanout: FanOut, key: str | int) -> int:
    counts = dict(await redis.pubsub_numsub(fanout.channel(key)))
    return int(next(iter(counts.values())))


async def test_frames_reach_the_listeners_of_their_key_on_other_replicas(replicas: StartFanOut) -> None:
    a, b = await replicas(), await replicas()
    chat_7, chat_7_again, chat_8, user_7, here = Inbox(), Inbox(), Inbox(), Inbox(), Inbox()
    await b.join(7, chat_7)
    await b.join(7, chat_7_again)  # a second socket of the same chat on the same replica
    await b.join(8, chat_8)
    await b.join("user:7", user_7)  # string keys, as a per-user channel would use
    await a.join(7, here)

    await a.publish(7, {"type": "message", "text": "привет", "seq": 1})
    await b.publish("user:7", {"type": "notification", "text": "для пользователя"})
    await wait_for(lambda: _true(len(chat_7.frames) == 1 and len(user_7.frames) == 1 and len(here.frames) == 1))

    frame = chat_7.frames[0]
    assert (frame.type, frame.data) == ("message", {"type": "message", "text": "привет", "seq": 1})
    assert json.loads(frame.text) == frame.data and "привет" in frame.text  # the text is built once, unescaped
    assert chat_7_again.frames == [frame]
    assert here.frames[0] == frame  # the publishing replica's own listeners get it through Redis too
    assert user_7.texts() == ["для пользователя"]
    await asyncio.sleep(0.2)
    assert chat_8.frames == [] and len(chat_7.frames) == 1


async def test_leaving_unsubscribes_and_rejoining_resubscribes(replicas: StartFanOut, redis: Redis) -> None:
    a, b = await replicas(), await replicas()
    first, second = Inbox(), Inbox()
    await b.join(5, first)
    await b.join(5, second)
    assert await subscribers(redis, b, 5) == 1  # one subscription per replica, however many listeners
    b.leave(5, first)
    await a.publish(5, {"type": "message", "text": "one"})
    await wait_for(lambda: _true(second.texts() == ["one"]))
    b.leave(5, second)

    async def unsubscribed() -> bool:
        return await subscribers(redis, b, 5) == 0

    await wait_for(unsubscribed, what="the unused channel to be unsubscribed")
    await a.publish(5, {"type": "message", "text": "nobody"})
    again = Inbox()
    await b.join(5, again)
    await a.publish(5, {"type": "message", "text": "two"})
    await wait_for(lambda: _true(again.texts() == ["two"]))
    assert first.texts() == [] and second.texts() == ["one"]
    assert b.local_listeners() == 1


async def test_a_join_racing_the_unsubscribe_of_its_channel_keeps_the_subscription(
    replicas: StartFanOut, redis: Redis
) -> None:
    """Join and leave in quick succession: the last join must end subscribed, whatever the interleaving."""
    a, b = await replicas(), await replicas()
    for round_number in range(30):
        inbox = Inbox()
        await b.join(9, inbox)
        b.leave(9, inbox)
        await asyncio.sleep(0.001 * (round_number % 5))  # sometimes the loop's UNSUBSCRIBE goes first
    final = Inbox()
    await b.join(9, final)
    await asyncio.sleep(1.2)  # a full turn of the subscriber loop, which drops channels nobody uses
    assert await subscribers(redis, b, 9) == 1
    await a.publish(9, {"type": "message", "text": "still here"})
    await wait_for(lambda: _true(final.texts() == ["still here"]))


async def test_a_join_during_the_drop_of_many_unused_channels_keeps_its_channel(
    replicas: StartFanOut, redis: Redis
) -> None:
    """The subscriber drops unused channels one UNSUBSCRIBE at a time: a join that lands mid-pass, on a
    channel the pass already decided to drop, must keep it (the drop checks again right before each one)."""
    a, b = await replicas(), await replicas()
    keys = list(range(1000, 1600))
    inboxes = {key: Inbox() for key in keys}
    for key in keys:
        await b.join(key, inboxes[key])
    for key in keys:
        b.leave(key, inboxes[key])

    async def dropping_started() -> bool:
        return await subscribers(redis, b, keys[0]) == 0

    await wait_for(dropping_started, what="the drop pass to start")
    last = Inbox()
    await b.join(keys[-1], last)
    await asyncio.sleep(1.2)  # past the end of the pass and a full turn of the loop
    assert await subscribers(redis, b, keys[-1]) == 1
    await a.publish(keys[-1], {"type": "message", "text": "kept"})
    await wait_for(lambda: _true(last.texts() == ["kept"]))


async def test_malformed_frames_are_ignored_and_the_loop_goes_on(replicas: StartFanOut, redis: Redis) -> None:
    b = await replicas()
    inbox = Inbox()
    await b.join(3, inbox)
    for raw in ("not json", "[1, 2]", '{"no": "type"}', "42"):
        await redis.publish(b.channel(3), raw)
    await redis.publish(b.channel(3), json.dumps({"type": "message", "text": "fine"}))
    await wait_for(lambda: _true(inbox.texts() == ["fine"]))
    assert b.listening


async def test_listeners_resync_once_resubscribed_after_the_subscriber_connection_is_killed(
    replicas: StartFanOut, redis: Redis
) -> None:
    a, b = await replicas(), await replicas(reconnect_seconds=0.5)
    inbox, other = Inbox(), Inbox()
    await b.join(11, inbox)
    await b.join(12, other)
    assert (inbox.resyncs, other.resyncs) == (0, 0)
    killed = [client["id"] for client in await redis.client_list() if client.get("name") == b.client_name]
    assert len(killed) == 1
    await redis.client_kill_filter(_id=killed[0])
    await wait_for(lambda: _true(not b.listening), what="the subscriber to notice")
    await a.publish(11, {"type": "message", "text": "lost"})  # nobody on B hears it: resync must cover it
    await wait_for(lambda: _true(inbox.resyncs == 1 and other.resyncs == 1), what="both listeners to resync")
    assert b.listening and inbox.texts() == []
    await a.publish(11, {"type": "message", "text": "after"})
    await wait_for(lambda: _true(inbox.texts() == ["after"]))


async def test_a_listener_that_joined_while_disconnected_is_subscribed_and_resynced_on_connect(
    redis: Redis,
) -> None:
    prefix = f"test-{run_id()}:fan:"
    fanout = FanOut(REDIS_URL, redis, prefix=prefix, client_name=f"fanout-test-{run_id()}")
    inbox = Inbox()
    await asyncio.wait_for(fanout.join(4, inbox), 1)  # not connected yet: returns at once
    task = asyncio.create_task(fanout.run())
    try:
        await wait_for(lambda: _true(inbox.resyncs == 1), what="the resync after connecting")
        await redis.publish(fanout.channel(4), json.dumps({"type": "message", "text": "live"}))
        await wait_for(lambda: _true(inbox.texts() == ["live"]))
    finally:
        await cancel_and_wait([task])


class SilentRelay:
    """A TCP relay to the real Redis that can go silent: connections stay open, nothing goes through."""

    def __init__(self) -> None:
        self.silent = False
        self._server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._server.wait_closed(), 1)

    async def _relay(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        target = urlsplit(REDIS_URL)
        redis_reader, redis_writer = await asyncio.open_connection(target.hostname, target.port or 6379)

        async def pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            while data := await reader.read(65536):
                if not self.silent:
                    writer.write(data)
                    await writer.drain()

        pumps = [
            asyncio.create_task(pump(client_reader, redis_writer)),
            asyncio.create_task(pump(redis_reader, client_writer)),
        ]
        try:
            await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
        finally:
            await cancel_and_wait(pumps)
            for writer in (client_writer, redis_writer):
                writer.close()


async def test_a_silent_redis_is_detected_by_unanswered_pings_and_left(replicas: StartFanOut) -> None:
    relay = SilentRelay()
    await relay.start()
    try:
        a = await replicas()
        b = await replicas(
            f"redis://127.0.0.1:{relay.port}/0", ping_seconds=0.1, silence_seconds=0.6, reconnect_seconds=0.2
        )
        inbox = Inbox()
        await b.join(21, inbox)
        await a.publish(21, {"type": "message", "text": "before"})
        await wait_for(lambda: _true(inbox.texts() == ["before"]))

        relay.silent = True  # no FIN, no answers: only the missing pongs tell
        await wait_for(lambda: _true(not b.listening), within=5, what="the silence to be noticed")
        relay.silent = False
        await wait_for(lambda: _true(b.listening and inbox.resyncs == 1), within=10, what="reconnect and resync")
        await a.publish(21, {"type": "message", "text": "after"})
        await wait_for(lambda: _true(inbox.texts() == ["before", "after"]))
    finally:
        await relay.stop()
