"""The per-key window rate limit against the real Redis."""

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from service_kit.ratelimit import WindowRateLimit
from service_kit.testing import REDIS_URL, run_id


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    client = Redis.from_url(REDIS_URL)
    yield client
    await client.aclose()


async def test_each_key_gets_its_limit_per_window_across_instances(redis: Redis) -> None:
    prefix = f"test-{run_id()}:rate:"
    # Two instances on one prefix are two replicas: they share the count.
    first, second = WindowRateLimit(redis, prefix, 3, 3600), WindowRateLimit(redis, prefix, 3, 3600)
    assert [await first.allow(7), await second.allow(7), await first.allow(7)] == [True, True, True]
    assert await second.allow(7) is False
    assert await first.allow(8) is True  # another key counts on its own
    assert await first.allow("user:7") is True
    counters = [key async for key in redis.scan_iter(match=f"{prefix}*")]
    assert len(counters) == 3
    assert 0 < await redis.ttl(counters[0]) <= 2 * 3600  # counters do not outlive their window for long


async def test_a_new_window_starts_a_new_count(redis: Redis) -> None:
    limit = WindowRateLimit(redis, f"test-{run_id()}:rate:", 1, 1)
    await asyncio.sleep(1 - time.time() % 1 + 0.01)  # right after a window starts: both hits fall in it
    assert await limit.allow(1) is True
    assert await limit.allow(1) is False
    await asyncio.sleep(1 - time.time() % 1 + 0.01)
    assert await limit.allow(1) is True


async def test_without_redis_every_hit_is_allowed() -> None:
    unreachable = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
    try:
        limit = WindowRateLimit(unreachable, "nowhere:", 1, 60)
        assert [await limit.allow(1) for _ in range(3)] == [True, True, True]
    finally:
        await unreachable.aclose()
