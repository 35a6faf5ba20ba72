"""What a client may send over the chat socket (contracts/chat-websocket.md)."""

import uuid

import pytest
from pydantic import ValidationError

from chat_service.api.frames import MarkRead, SendMessage, parse_client_frame


def test_plain_text_is_a_message_from_a_simple_client() -> None:
    assert parse_client_frame("привет") == SendMessage(type="message", text="привет")
    # JSON that is not an object is text too.
    assert parse_client_frame("42") == SendMessage(type="message", text="42")


def test_typed_frames() -> None:
    client_id = uuid.uuid4()
    sent = parse_client_frame(f'{{"type": "message", "text": "hi", "client_id": "{client_id}", "extra": 1}}')
    assert sent == SendMessage(type="message", text="hi", client_id=client_id)
    assert parse_client_frame('{"type": "read", "seq": 7}') == MarkRead(type="read", seq=7)


@pytest.mark.parametrize(
    "raw",
    [
        '{"type": "dance"}',
        '{"type": "message"}',
        '{"type": "read", "seq": -1}',
        '{"type": "message", "text": "hi", "client_id": "not-a-uuid"}',
        '{"type": "message", "text": "a\\u0000b"}',
        '{"type": "message", "text": "\\ud800"}',
    ],
)
def test_invalid_objects_are_refused(raw: str) -> None:
    with pytest.raises(ValidationError):
        parse_client_frame(raw)
