"""Per-user frame rate limit in Redis, shared by every replica (fixed windows)."""

import logging
import time

from redis.asyncio import Redis

logger = logging.getLogger(__name__)


class FrameRateLimit:
    def __init__(self, redis: Redis, namespace: str, limit: int, window_seconds: int) -> None:
        self._redis = redis
        self._prefix = f"{namespace}:chat:rate:"
        self.limit = limit
        self.window_seconds = window_seconds

    async def allow(self, user_id: int) -> bool:
        window = int(time.time() // self.window_seconds)
        key = f"{self._prefix}{user_id}:{window}"
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.incr(key)
                pipe.expire(key, self.window_seconds * 2)
                count, _ = await pipe.execute()
        except Exception:
            # Chatting goes on without Redis; the limit is a guard, not a correctness rule.
            logger.warning("rate limit unavailable; frame allowed")
            return True
        return int(count) <= self.limit
