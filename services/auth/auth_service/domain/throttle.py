"""Limits on sending codes: a cooldown per phone and daily caps per phone and per IP.

Counters live in Redis: losing them on a restart only relaxes a limit for a while.
"""

from dataclasses import dataclass

from redis.asyncio import Redis


class Throttled(Exception):
    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = max(retry_after, 1)


@dataclass(frozen=True)
class SendLimits:
    cooldown_seconds: int
    daily_cap_per_phone: int
    daily_cap_per_ip: int


class CodeSendThrottle:
    _DAY = 24 * 3600

    def __init__(self, redis: Redis, namespace: str, limits: SendLimits) -> None:
        self._redis = redis
        self._prefix = f"{namespace}:auth:sms"
        self._limits = limits

    async def claim(self, phone: str, client_ip: str) -> None:
        """Counts one send for the IP and the phone, or raises Throttled.

        The IP is charged first: a network over its cap cannot go on spending
        other people's cooldowns and daily caps (locking them out).
        """
        await self._count(f"{self._prefix}:day:ip:{client_ip}", self._limits.daily_cap_per_ip, "your network")
        cooldown_key = f"{self._prefix}:cooldown:{phone}"
        if not await self._redis.set(cooldown_key, 1, nx=True, ex=self._limits.cooldown_seconds):
            wait = await self._redis.ttl(cooldown_key)
            raise Throttled(f"A code was sent recently; try again in {max(wait, 1)} s", wait)
        await self._count(f"{self._prefix}:day:phone:{phone}", self._limits.daily_cap_per_phone, "this phone")

    async def _count(self, key: str, cap: int, whose: str) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, self._DAY, nx=True)
            pipe.ttl(key)
            count, _, ttl = await pipe.execute()
        if count > cap:
            raise Throttled(f"Daily limit of codes for {whose} reached; try again in {ttl} s", ttl)
