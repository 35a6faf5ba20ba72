"""Events of the chat service: chats opened, messages stored and read."""

from typing import Annotated

from pydantic import Field

from event_contracts.fields import Id, Moment, event_text
from service_kit.events.data import EventData


class ChatCreated(EventData):
    """A buyer and a seller opened a chat about the seller's listing (published once per chat)."""

    event_type = "chat.created"
    producer = "chat"

    chat_id: Id
    buyer_id: Id
    seller_id: Id = Field(description="The listing's owner")
    property_id: Id
    created_at: Moment
    opened_by: Id | None = Field(
        None, description="buyer_id or seller_id: who opened it (the other one is told); absent before it travelled"
    )


class ChatRead(EventData):
    """A participant's read mark of a chat, after they marked messages read (the mark never moves back)."""

    event_type = "chat.read"
    producer = "chat"

    chat_id: Id
    user_id: Id = Field(description="Who read")
    read_seq: Annotated[int, Field(ge=0, le=2**63 - 1)] = Field(description="Every message up to this seq is read")
    read_at: Moment


class MessageSent(EventData):
    """A chat message was stored (committed before any socket got it); retried sends with the same client id are
    not published again."""

    event_type = "message.sent"
    producer = "chat"

    message_id: Id
    chat_id: Id
    seq: Id = Field(description="Per-chat sequence, increasing by one without gaps")
    sender_id: Id
    recipient_id: Id = Field(description="The other participant, e.g. for push notifications")
    property_id: Id
    text: Annotated[str, event_text(100_000, min_length=1)]
    created_at: Moment
