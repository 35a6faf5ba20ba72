"""Plain values the domain hands to ``api/`` and ``events/``; ORM rows stay inside the domain."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class NotificationValue:
    id: int
    seq: int
    kind: str
    title: str
    body: str
    data: dict[str, Any]
    alert: bool
    push_status: str
    created_at: datetime
    read_at: datetime | None


@dataclass(frozen=True)
class InboxPage:
    items: list[NotificationValue]
    # Pass as ``before`` for the next (older) page; None when this was the oldest one.
    next_before: int | None
    unread: int


@dataclass(frozen=True)
class Badge:
    """What a user has not read: inbox notifications, and chat messages across all their chats."""

    notifications: int
    messages: int
    chats: int


@dataclass(frozen=True)
class DeviceValue:
    id: int
    platform: str
    registered_at: datetime
