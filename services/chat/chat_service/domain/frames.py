"""Frames a client sends over the socket (see contracts/chat-websocket.md)."""

import json
import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from marketplace_rules.text import Text


class SendMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: Literal["message"]
    # Stripped and length-checked by the socket, which answers with its own error codes.
    text: Annotated[str, Text(strip=False)]
    client_id: uuid.UUID | None = None


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
        return SendMessage(type="message", text=raw)
    return _client_frame.validate_python(decoded)
