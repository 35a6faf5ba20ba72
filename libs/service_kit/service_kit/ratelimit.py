"""A rate limit per key in Redis, shared by every replica (fixed windows)."""

import logging
import time

from redis.asyncio import Redis

logger = logging.getLogger(__name__)


class WindowRateLimit:
    """At most ``limit`` hits per key in each window of ``window_seconds``.

    It fails open: without Redis every hit is allowed, because the limit is a
    guard against floods, not a rule anything else relies on.
    """

    def __init__(self, redis: Redis, prefix: str, limit: int, window_seconds: int) -> None:
        self._redis = redis
        self._prefix = prefix
        self.limit = limit
        self.window_seconds = window_seconds

    async def allow(self, key: str | int) -> bool:
        window = int(time.time() // self.window_seconds)
        counter = f"{self._prefix}{key}:{window}"
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.incr(counter)
                pipe.expire(counter, self.window_seconds * 2)
                count, _ = await pipe.execute()
        except Exception:
            logger.warning("rate limit unavailable; hit allowed", extra={"prefix": self._prefix})
            return True
        return int(count) <= self.limit
