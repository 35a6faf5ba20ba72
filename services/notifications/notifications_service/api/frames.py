"""What travels over the notifications socket (contracts/notifications-websocket.md). Pure: no I/O."""

import json
from enum import IntEnum
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from notifications_service.domain.values import Badge, NotificationValue

RECONNECT_HINT = "reconnect with ?after=<last seq>"
MAX_READ_IDS = 100


class CloseCode(IntEnum):
    """The chat socket's codes, with the same meaning (4003 has none here: every user has a channel)."""

    INTERNAL_ERROR = 1011
    RESTARTING = 1012
    INVALID_TOKEN = 4001
    TOO_SLOW = 4008
    RATE_LIMITED = 4029


def seq_from_query(raw: str | None) -> int | None:
    """``?after=``: a non-negative integer, or None when absent or not one."""
    if raw is None or not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
        return None
    return int(raw)


# -- client frames ----------------------------------------------------------------------


class MarkRead(BaseModel):
    """Marks notifications read: these ``ids``, or everything up to ``up_to_seq`` (exactly one of them)."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["read"] = "read"
    ids: list[int] | None = Field(None, min_length=1, max_length=MAX_READ_IDS)
    up_to_seq: int | None = Field(None, ge=0, le=2**62)

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        if (self.ids is None) == (self.up_to_seq is None):
            raise ValueError("send either ids or up_to_seq")
        if self.ids is not None and not all(1 <= value <= 2**63 - 1 for value in self.ids):
            raise ValueError("ids are positive integers")
        return self


def parse_client_frame(raw: str) -> MarkRead:
    """Raises pydantic.ValidationError (or ValueError for text that is not a JSON object)."""
    decoded = json.loads(raw)
    if not isinstance(decoded, dict):
        raise ValueError("frames are JSON objects with a type")
    return MarkRead.model_validate(decoded)


def invalid_frame_detail(error: ValidationError | ValueError) -> str:
    if not isinstance(error, ValidationError):
        return str(error) if not isinstance(error, json.JSONDecodeError) else "frames are JSON objects with a type"
    problem = error.errors()[0]
    where = ".".join(str(part) for part in problem["loc"])
    return f"{where}: {problem['msg']}" if where else str(problem["msg"])


# -- server frames ----------------------------------------------------------------------


def badge_fields(badge: Badge) -> dict[str, int]:
    return {"notifications": badge.notifications, "messages": badge.messages, "chats": badge.chats}


def hello_frame(user_id: int, replica: str, last_seq: int, badge: Badge) -> dict[str, Any]:
    return {"type": "hello", "user_id": user_id, "replica": replica, "last_seq": last_seq, "badge": badge_fields(badge)}


def notification_frame(notification: NotificationValue) -> dict[str, Any]:
    return {
        "type": "notification",
        "id": notification.id,
        "seq": notification.seq,
        "kind": notification.kind,
        "title": notification.title,
        "body": notification.body,
        "data": notification.data,
        "alert": notification.alert,
        "push_status": notification.push_status,
        "created_at": notification.created_at.isoformat(),
        "read": notification.read_at is not None,
    }


def badge_frame(badge: Badge) -> dict[str, Any]:
    return {"type": "badge", **badge_fields(badge)}


def read_frame(ids: list[int] | None, up_to_seq: int | None) -> dict[str, Any]:
    return {"type": "read", "ids": ids, "up_to_seq": up_to_seq}


def reload_frame(after: int, last_seq: int, replay_limit: int) -> dict[str, Any]:
    return {
        "type": "reload",
        "after": after,
        "last_seq": last_seq,
        "detail": f"more than {replay_limit} notifications missed: page them with GET /notifications",
    }


# Internal to the service, never sent as such: a change of the badge (the socket reads it fresh) and
# the end of an account (the socket closes with 4001).
BADGE_CHANGED = {"type": "badge_changed"}


def closed_frame(user_id: int) -> dict[str, Any]:
    return {"type": "closed", "user_id": user_id}


def error_frame(code: str, detail: str) -> dict[str, Any]:
    return {"type": "error", "code": code, "detail": detail}
