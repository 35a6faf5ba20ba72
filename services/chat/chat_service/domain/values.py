"""The plain values the chat service takes and returns, and the pure rules about them.

Nothing here touches the database: ``api/`` and ``events/`` get these instead of
ORM rows, so what they can see of a chat is exactly what is listed here.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime

from chat_service.domain.errors import EmptyMessage, MessageTooLong

DELETED_USER_NAME = "Удалённый пользователь"


@dataclass(frozen=True, slots=True)
class ChatInfo:
    id: int
    buyer_id: int
    seller_id: int
    property_id: int
    created_at: datetime
    last_seq: int  # the sequence of the newest message, 0 before the first
    buyer_read_seq: int
    seller_read_seq: int
    closed: bool  # a participant's account was deleted: readable, but nobody can send

    def read_seq_of(self, user_id: int) -> int:
        return self.buyer_read_seq if user_id == self.buyer_id else self.seller_read_seq

    def other_read_seq_of(self, user_id: int) -> int:
        return self.seller_read_seq if user_id == self.buyer_id else self.buyer_read_seq

    def other_participant(self, user_id: int) -> int:
        return self.seller_id if user_id == self.buyer_id else self.buyer_id


@dataclass(frozen=True, slots=True)
class ChatMessage:
    id: int
    seq: int
    chat_id: int
    sender_id: int
    text: str
    client_id: uuid.UUID | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Sent:
    message: ChatMessage
    # True when client_id matched a message stored earlier: nothing new was written.
    duplicate: bool


@dataclass(frozen=True, slots=True)
class LastMessage:
    seq: int
    sender_id: int | None
    preview: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class PropertyInfo:
    """What chat knows of a listing from property.* events."""

    title: str
    cover_image_url: str | None
    status: str


@dataclass(frozen=True, slots=True)
class ChatSummary:
    chat: ChatInfo
    other_user_id: int
    other_user_name: str
    property: PropertyInfo | None  # None until the listing's first event arrived
    last_message: LastMessage | None
    last_activity_at: datetime
    unread_count: int


@dataclass(frozen=True, slots=True)
class HistoryPage:
    chat: ChatInfo
    messages: list[ChatMessage]  # ascending by seq
    has_more: bool


def message_text(text: str, max_length: int) -> str:
    """The text as stored: surrounding whitespace dropped, not empty, at most ``max_length`` characters."""
    text = text.strip()
    if not text:
        raise EmptyMessage("message text is empty")
    if len(text) > max_length:
        raise MessageTooLong(f"message longer than {max_length} characters")
    return text


def display_name(user_id: int, first_name: str, last_name: str, *, known: bool, deleted: bool) -> str:
    """How the other participant is shown: their name, a placeholder, or the deleted-user label."""
    if deleted:
        return DELETED_USER_NAME
    name = " ".join(part for part in (first_name, last_name) if part) if known else ""
    return name or f"Пользователь {user_id}"
