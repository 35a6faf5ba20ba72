"""Request and response bodies of the chat API."""

from datetime import datetime

from pydantic import BaseModel, Field


class CreateChat(BaseModel):
    buyer_id: int = Field(ge=1, le=2**31 - 1)
    seller_id: int = Field(ge=1, le=2**31 - 1)
    property_id: int = Field(ge=1, le=2**31 - 1)


class ChatOut(BaseModel):
    id: int
    buyer_id: int
    seller_id: int
    property_id: int
    created_at: datetime
    closed: bool = Field(description="A participant's account was deleted: readable, but nobody can send")


class Participant(BaseModel):
    id: int
    display_name: str


class PropertyCard(BaseModel):
    id: int
    title: str | None
    cover_image_url: str | None
    status: str | None = Field(description="active, archived, sold or deleted; null if not known yet")


class LastMessage(BaseModel):
    seq: int
    sender_id: int | None
    preview: str = Field(description="The first 200 characters")
    created_at: datetime


class ChatSummaryOut(BaseModel):
    id: int
    buyer_id: int
    seller_id: int
    property_id: int
    other_user: Participant
    property: PropertyCard
    last_message: LastMessage | None
    last_activity_at: datetime
    unread_count: int = Field(description="Messages of the other participant after the caller's read mark")
    closed: bool


class MessageOut(BaseModel):
    """A stored message, as the original server's records: ``{id, chat_id, sender_id, content, created_at}``."""

    id: int
    chat_id: int
    sender_id: int
    content: str
    created_at: datetime
    seq: int = Field(description="Per-chat sequence: 1, 2, 3, ... without gaps")
    client_id: str | None = Field(description="The sender's own id of the message, if it gave one")
    text: str = Field(deprecated="Use `content`", description="Same as `content`")


class MessagePage(BaseModel):
    chat_id: int
    messages: list[MessageOut] = Field(description="Ascending by seq")
    has_more: bool = Field(
        description="More messages beyond this page: older ones by default or with `before`, newer with `after`"
    )
    last_seq: int
    read_seq: int = Field(description="The caller's read mark")
    other_read_seq: int = Field(description="How far the other participant has read")
