"""Sending pushes through a pluggable provider: the interface, its outcomes, and the development console one.

A provider sends one message to one device token and says what happened; the
push worker (``push_worker.py``) decides what follows: done, remove the device,
retry later, or give up. Providers never raise for a refusal they understood.
"""

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol


@dataclass(frozen=True)
class PushMessage:
    title: str
    body: str
    # Deep-link values for the app; providers want strings only.
    data: dict[str, str]
    # Pushes with the same key replace each other on the device: one chat's later pushes, and a repeat of one push.
    collapse_key: str
    ttl_seconds: int


class Outcome(StrEnum):
    DELIVERED = "delivered"  # the provider accepted it
    UNREGISTERED = "unregistered"  # the token is dead (app removed, token expired or foreign): remove the device
    RETRY = "retry"  # a temporary failure (timeout, 429, 5xx, an expired access token): try again later
    REJECTED = "rejected"  # the provider refused this message for good


@dataclass(frozen=True)
class PushResult:
    outcome: Outcome
    detail: str = ""
    # Seconds the provider asked us to wait (Retry-After), if it did.
    retry_after: float | None = field(default=None)


class PushProvider(Protocol):
    name: str
    # Device platforms this provider delivers to.
    platforms: frozenset[str]

    async def send(self, token: str, message: PushMessage) -> PushResult: ...

    async def close(self) -> None: ...


class ConsolePushProvider:
    """Development only: prints each push instead of sending it, for any platform."""

    name = "console"

    def __init__(self, platforms: frozenset[str]) -> None:
        self.platforms = platforms

    async def send(self, token: str, message: PushMessage) -> PushResult:
        print(f"[console push to …{token[-8:]}] {message.title}: {message.body} {message.data}", flush=True)
        return PushResult(Outcome.DELIVERED)

    async def close(self) -> None:
        return None


def retry_after_seconds(raw: str | None) -> float | None:
    """A Retry-After header in seconds (the HTTP-date form is not used by these providers)."""
    if raw is None or not raw.strip().isdigit():
        return None
    return float(raw.strip())
