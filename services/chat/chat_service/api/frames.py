"""What travels over the chat socket (contracts/chat-websocket.md): URL parameters, frames, close codes.

Pure: parsing what a client sends and building what the server sends, with no I/O.
"""

import json
import uuid
from enum import IntEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

from chat_service.domain.errors import ChatClosed, ChatError, EmptyMessage, MessageTooLong
from chat_service.domain.values import ChatInfo, ChatMessage, Sent
from marketplace_rules.text import Text

MAX_CHAT_ID = 2**63 - 1  # chats.id is a BIGINT
RECONNECT_HINT = "reconnect with ?after=<last seq>"


class CloseCode(IntEnum):
    INTERNAL_ERROR = 1011
    RESTARTING = 1012
    INVALID_TOKEN = 4001
    FORBIDDEN = 4003
    TOO_SLOW = 4008
    RATE_LIMITED = 4029


# -- the URL ----------------------------------------------------------------------------


def chat_id_from_path(raw: str) -> int | None:
    """A chat id as PostgreSQL can hold it (1..2**63-1), or None: ASCII digits only, no sign or spaces."""
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 19:
        return None
    value = int(raw)
    return value if 1 <= value <= MAX_CHAT_ID else None


def seq_from_query(raw: str | None) -> int | None:
    """``?after=``: a non-negative integer, or None when absent or not one."""
    if raw is None or not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
        return None
    return int(raw)


# -- client frames ----------------------------------------------------------------------


MessageText = Annotated[str, Text(strip=False)]


class SendMessage(BaseModel):
    """``content`` (the original server's name) or ``text``; both only if they say the same."""

    model_config = ConfigDict(extra="ignore")

    type: Literal["message"]
    # Stored as sent: the domain's message_text strips it and checks its length.
    content: MessageText | None = None
    text: MessageText | None = None
    client_id: uuid.UUID | None = None

    @model_validator(mode="after")
    def _one_text(self) -> "SendMessage":
        if self.content is None and self.text is None:
            raise ValueError("a message frame needs `content` (or `text`)")
        if self.content is not None and self.text is not None and self.content != self.text:
            raise ValueError("`content` and `text` differ: send one of them")
        return self

    @property
    def body(self) -> str:
        """What is stored: ``content``, else ``text`` (the validator makes sure one is there)."""
        return self.content if self.content is not None else self.text or ""


class MarkRead(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: Literal["read"]
    seq: int = Field(ge=0, le=2**62)


ClientFrame = Annotated[SendMessage | MarkRead, Field(discriminator="type")]
_client_frame: TypeAdapter[SendMessage | MarkRead] = TypeAdapter(ClientFrame)


def parse_client_frame(raw: str) -> SendMessage | MarkRead:
    """A JSON object is a typed frame; anything else is the text of a message from a simple client.

    Raises pydantic.ValidationError for an object that is not a valid frame.
    """
    try:
        decoded = json.loads(raw)
    except ValueError:
        decoded = None
    if not isinstance(decoded, dict):
        return SendMessage(type="message", content=raw)
    return _client_frame.validate_python(decoded)


def invalid_frame_detail(error: ValidationError) -> str:
    """The first problem of a refused frame, with where it is: ``read.seq: Input should be ...``."""
    problem = error.errors()[0]
    where = ".".join(str(part) for part in problem["loc"])
    return f"{where}: {problem['msg']}" if where else str(problem["msg"])


# -- server frames ----------------------------------------------------------------------


def hello_frame(chat: ChatInfo, user_id: int, replica: str) -> dict[str, Any]:
    return {
        "type": "hello",
        "chat_id": chat.id,
        "user_id": user_id,
        "replica": replica,
        "last_seq": chat.last_seq,
        "read_seq": chat.read_seq_of(user_id),
        "other_read_seq": chat.other_read_seq_of(user_id),
        "closed": chat.closed,
    }


def message_frame(message: ChatMessage) -> dict[str, Any]:
    return {
        "type": "message",
        "id": message.id,
        "seq": message.seq,
        "chat_id": message.chat_id,
        "sender_id": message.sender_id,
        "content": message.text,
        "created_at": message.created_at.isoformat(),
        "client_id": str(message.client_id) if message.client_id else None,
        "text": message.text,  # deprecated: the same as content
    }


def ack_frame(sent: Sent, client_id: uuid.UUID | None) -> dict[str, Any]:
    """To the sender; ``client_id`` is the one the frame carried (the stored message has the same one)."""
    return {
        "type": "ack",
        "chat_id": sent.message.chat_id,
        "client_id": str(client_id) if client_id else None,
        "id": sent.message.id,
        "seq": sent.message.seq,
        "created_at": sent.message.created_at.isoformat(),
        "duplicate": sent.duplicate,
    }


def read_frame(chat_id: int, user_id: int, seq: int) -> dict[str, Any]:
    return {"type": "read", "chat_id": chat_id, "user_id": user_id, "seq": seq}


def reload_frame(chat_id: int, after: int, last_seq: int, replay_limit: int) -> dict[str, Any]:
    return {
        "type": "reload",
        "chat_id": chat_id,
        "after": after,
        "last_seq": last_seq,
        "detail": f"more than {replay_limit} messages missed: page them with "
        f"GET /chat/chat_messages/{chat_id}?after={after}",
    }


def closed_frame(chat_id: int, user_id: int) -> dict[str, Any]:
    """The chat closed because ``user_id``'s account was deleted."""
    return {"type": "closed", "chat_id": chat_id, "reason": "user_deleted", "user_id": user_id}


def error_frame(code: str, detail: str, client_id: uuid.UUID | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"type": "error", "code": code, "detail": detail}
    if client_id is not None:
        data["client_id"] = str(client_id)
    return data


_REFUSAL_CODES: dict[type[ChatError], str] = {
    ChatClosed: "chat_closed",
    EmptyMessage: "empty",
    MessageTooLong: "too_long",
}


def refusal_frame(refusal: ChatError, client_id: uuid.UUID | None) -> dict[str, Any]:
    """A frame the chat rules refused: its error code, and the rule's message as the detail."""
    return error_frame(_REFUSAL_CODES.get(type(refusal), "refused"), str(refusal), client_id)
