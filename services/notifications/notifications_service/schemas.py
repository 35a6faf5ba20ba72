"""Request and response bodies of the notifications API."""

from datetime import datetime
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from marketplace_rules.text import Text
from notifications_service.domain.devices import Platform
from notifications_service.domain.kinds import Kind, PushStatus

MAX_ID = 2**63 - 1


class NotificationOut(BaseModel):
    id: int
    seq: int = Field(description="The user's own sequence, increasing by one: replay with ?after= on the socket")
    kind: Kind
    title: str
    body: str
    data: dict[str, Any] = Field(description="Ids to open the right screen: request_id, property_id, chat_id, ...")
    alert: bool = Field(description="The user's setting of this kind was on: show a banner. Off: list it quietly")
    push_status: PushStatus
    created_at: datetime
    read: bool


class NotificationPage(BaseModel):
    items: list[NotificationOut] = Field(description="Newest first")
    next_before: int | None = Field(description="Pass as `before` for the next (older) page; null on the last one")
    unread_count: int = Field(description="Unread notifications of the user (all kinds)")


class MarkRead(BaseModel):
    """Exactly one of `ids` (at most 100) and `up_to_seq`."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"example": {"up_to_seq": 42}})

    ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] | None = Field(None, min_length=1, max_length=100)
    up_to_seq: int | None = Field(None, ge=0, le=MAX_ID)

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        if (self.ids is None) == (self.up_to_seq is None):
            raise ValueError("send either ids or up_to_seq")
        return self


class ReadResult(BaseModel):
    marked: int = Field(description="How many were unread and are read now")
    unread_count: int


class BadgeOut(BaseModel):
    notifications: int = Field(description="Unread notifications")
    messages: int = Field(description="Unread chat messages across all the user's chats")
    chats: int = Field(description="Chats with unread messages")


class DeviceIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"example": {"platform": "fcm", "token": "fcm-registration-token"}})

    platform: Platform = Field(description="fcm (Android and iOS apps on Firebase), rustore, apns or webpush")
    token: Annotated[str, Text(4096, min_length=1)] = Field(description="The push token the app got from its provider")


class DeviceOut(BaseModel):
    id: int
    platform: Platform
    registered_at: datetime
