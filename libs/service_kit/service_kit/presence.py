"""Who has a socket open on what, shared by every replica through Redis with a short TTL.

A topic (a chat and a user, say) has a sorted set in Redis: one member per open
socket, scored with the time its entry expires. The replica that holds the
socket adds it when it opens, removes it when it closes and refreshes all of
its own entries in one pipeline every third of the TTL, so a replica that dies
leaves entries that expire by themselves. A topic is present while one entry
has not expired. Scores are the writers' clocks (kept by NTP; the TTL dwarfs
their skew).

It fails open in both directions: a write that fails is logged and retried by
the next refresh, a read that fails or takes too long says "not present". What
depends on presence (a push while nobody looks) prefers telling twice to not
telling. Key layout and semantics: contracts/presence.md.
"""

import asyncio
import logging
import math
import time

from redis.asyncio import Redis

logger = logging.getLogger(__name__)

Topic = str


class Presence:
    def __init__(
        self, redis: Redis, prefix: str, *, ttl_seconds: float = 30.0, read_timeout_seconds: float = 0.5
    ) -> None:
        """Keys are ``prefix`` + topic; an entry lives ``ttl_seconds`` unless refreshed."""
        self._redis = redis
        self._prefix = prefix
        self.ttl_seconds = ttl_seconds
        self.read_timeout_seconds = read_timeout_seconds
        self._local: dict[Topic, set[str]] = {}  # topic -> members of this replica

    def key(self, topic: Topic) -> str:
        return f"{self._prefix}{topic}"

    async def enter(self, topic: Topic, member: str) -> None:
        """Marks ``member`` present on ``topic`` now (and from now on refreshes it)."""
        self._local.setdefault(topic, set()).add(member)
        try:
            await self._write({topic: {member}})
        except Exception:
            logger.warning("cannot record presence now; the next refresh retries", extra={"topic": topic})

    async def leave(self, topic: Topic, member: str) -> None:
        members = self._local.get(topic)
        if members is not None:
            members.discard(member)
            if not members:
                del self._local[topic]
        try:
            await self._redis.zrem(self.key(topic), member)
        except Exception:
            logger.warning("cannot remove presence; it expires by itself", extra={"topic": topic})

    async def present(self, topic: Topic) -> bool:
        """True while some replica holds an unexpired entry of ``topic``; False if Redis cannot say in time."""
        try:
            count = await asyncio.wait_for(
                self._redis.zcount(self.key(topic), f"({time.time()}", "+inf"), self.read_timeout_seconds
            )
        except Exception:
            logger.warning("presence unknown; taken as absent", extra={"topic": topic})
            return False
        return int(count) > 0

    def local_entries(self) -> int:
        return sum(len(members) for members in self._local.values())

    async def run(self) -> None:
        """Refreshes this replica's entries until cancelled; Redis outages are waited out."""
        while True:
            await asyncio.sleep(self.ttl_seconds / 3)
            try:
                await self._write({topic: set(members) for topic, members in self._local.items()})
            except Exception:
                logger.warning("cannot refresh presence; retrying", extra={"entries": self.local_entries()})

    async def _write(self, entries: dict[Topic, set[str]]) -> None:
        if not entries:
            return
        expires = time.time() + self.ttl_seconds
        async with self._redis.pipeline(transaction=False) as pipe:
            for topic, members in entries.items():
                key = self.key(topic)
                pipe.zadd(key, dict.fromkeys(members, expires))
                # Expired members of dead replicas go with the key, or here.
                pipe.zremrangebyscore(key, "-inf", time.time())
                pipe.expire(key, math.ceil(self.ttl_seconds))
            await pipe.execute()
