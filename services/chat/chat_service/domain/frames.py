"""Frames a client sends over the socket (see contracts/chat-websocket.md)."""

import json
import re
import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator

# PostgreSQL text cannot hold NUL, and UTF-8 cannot encode a lone surrogate (JSON "\ud800").
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class SendMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: Literal["message"]
    text: str
    client_id: uuid.UUID | None = None

    @field_validator("text")
    @classmethod
    def _storable(cls, text: str) -> str:
        if _UNSTORABLE.search(text):
            raise ValueError("text must not contain NUL (\\u0000) or unpaired surrogate characters")
        return text


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
