"""What travels over the chat socket (contracts/chat-websocket.md): client frames, URL parameters, server frames."""

import uuid
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from chat_service.api.frames import (
    CloseCode,
    MarkRead,
    SendMessage,
    ack_frame,
    chat_id_from_path,
    closed_frame,
    hello_frame,
    invalid_frame_detail,
    message_frame,
    parse_client_frame,
    refusal_frame,
    reload_frame,
    seq_from_query,
)
from chat_service.domain.errors import ChatClosed, EmptyMessage, MessageTooLong, NotAParticipant
from chat_service.domain.values import ChatInfo, ChatMessage, Sent


def test_plain_text_is_a_message_from_a_simple_client() -> None:
    assert parse_client_frame("привет") == SendMessage(type="message", content="привет")
    # JSON that is not an object is text too.
    assert parse_client_frame("42") == SendMessage(type="message", content="42")


def test_typed_frames() -> None:
    client_id = uuid.uuid4()
    sent = parse_client_frame(f'{{"type": "message", "text": "hi", "client_id": "{client_id}", "extra": 1}}')
    assert sent == SendMessage(type="message", text="hi", client_id=client_id)
    assert sent.body == "hi"
    assert parse_client_frame('{"type": "read", "seq": 7}') == MarkRead(type="read", seq=7)


@pytest.mark.parametrize(
    "raw",
    ['{"type": "message", "content": "hi"}', '{"type": "message", "content": "hi", "text": "hi"}', "hi"],
)
def test_content_is_the_text_of_a_message_as_the_original_server_named_it(raw: str) -> None:
    frame = parse_client_frame(raw)
    assert isinstance(frame, SendMessage) and frame.body == "hi"


def test_content_and_text_that_differ_are_refused() -> None:
    with pytest.raises(ValidationError) as refused:
        parse_client_frame('{"type": "message", "content": "hi", "text": "bye"}')
    assert "`content` and `text` differ" in invalid_frame_detail(refused.value)


@pytest.mark.parametrize(
    "raw",
    [
        '{"type": "dance"}',
        '{"type": "message"}',
        '{"type": "message", "content": null}',
        '{"type": "message", "content": 5}',
        '{"type": "message", "content": "a\\u0000b"}',
        '{"type": "read", "seq": -1}',
        '{"type": "message", "text": "hi", "client_id": "not-a-uuid"}',
        '{"type": "message", "text": "a\\u0000b"}',
        '{"type": "message", "text": "\\ud800"}',
    ],
)
def test_invalid_objects_are_refused(raw: str) -> None:
    with pytest.raises(ValidationError):
        parse_client_frame(raw)


def test_invalid_frame_detail_names_the_field() -> None:
    with pytest.raises(ValidationError) as refused:
        parse_client_frame('{"type": "read", "seq": "many"}')
    assert invalid_frame_detail(refused.value).startswith("read.seq: Input should be a valid integer")
    with pytest.raises(ValidationError) as untagged:
        parse_client_frame('{"text": "no type"}')
    assert "discriminator 'type'" in invalid_frame_detail(untagged.value)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1", 1),
        ("9223372036854775807", 2**63 - 1),
        ("0", None),
        ("9223372036854775808", None),  # beyond BIGINT
        ("99999999999999999999", None),
        ("+1", None),
        (" 1", None),
        ("١", None),  # an Arabic-Indic digit: isdigit() but not ASCII
        ("abc", None),
        ("", None),
    ],
)
def test_chat_id_from_path(raw: str, expected: int | None) -> None:
    assert chat_id_from_path(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"), [(None, None), ("0", 0), ("42", 42), ("-1", None), ("x", None), ("1" * 19, None)]
)
def test_seq_from_query(raw: str | None, expected: int | None) -> None:
    assert seq_from_query(raw) == expected


CHAT = ChatInfo(
    id=5,
    buyer_id=10,
    seller_id=20,
    property_id=30,
    created_at=datetime(2026, 1, 1, tzinfo=UTC),
    last_seq=9,
    buyer_read_seq=7,
    seller_read_seq=3,
    closed=False,
)
MESSAGE = ChatMessage(
    id=901,
    seq=9,
    chat_id=5,
    sender_id=10,
    text="привет",
    client_id=uuid.UUID(int=1),
    created_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
)


def test_hello_is_from_the_callers_side() -> None:
    assert hello_frame(CHAT, 20, "replica-1") == {
        "type": "hello",
        "chat_id": 5,
        "user_id": 20,
        "replica": "replica-1",
        "last_seq": 9,
        "read_seq": 3,
        "other_read_seq": 7,
        "closed": False,
    }
    assert (hello_frame(CHAT, 10, "r")["read_seq"], hello_frame(CHAT, 10, "r")["other_read_seq"]) == (7, 3)


def test_message_and_ack_frames() -> None:
    assert message_frame(MESSAGE) == {
        "type": "message",
        "id": 901,
        "seq": 9,
        "chat_id": 5,
        "sender_id": 10,
        "content": "привет",
        "text": "привет",  # the deprecated name of content
        "client_id": "00000000-0000-0000-0000-000000000001",
        "created_at": "2026-01-02T03:04:05+00:00",
    }
    assert message_frame(replace(MESSAGE, client_id=None))["client_id"] is None
    ack = ack_frame(Sent(MESSAGE, duplicate=True), MESSAGE.client_id)
    assert ack == {
        "type": "ack",
        "chat_id": 5,
        "client_id": "00000000-0000-0000-0000-000000000001",
        "id": 901,
        "seq": 9,
        "created_at": "2026-01-02T03:04:05+00:00",
        "duplicate": True,
    }
    assert ack_frame(Sent(MESSAGE, duplicate=False), None)["client_id"] is None


def test_reload_points_at_the_rest_page_of_the_gap() -> None:
    frame = reload_frame(5, 1, 900, 300)
    assert (frame["type"], frame["after"], frame["last_seq"]) == ("reload", 1, 900)
    assert "more than 300 messages" in frame["detail"]
    assert "GET /chat/chat_messages/5?after=1" in frame["detail"]


def test_refusals_map_to_error_codes_and_echo_the_client_id() -> None:
    client_id = uuid.uuid4()
    assert refusal_frame(ChatClosed("This chat is closed"), client_id) == {
        "type": "error",
        "code": "chat_closed",
        "detail": "This chat is closed",
        "client_id": str(client_id),
    }
    assert refusal_frame(EmptyMessage("message text is empty"), None)["code"] == "empty"
    assert "client_id" not in refusal_frame(EmptyMessage("x"), None)
    assert refusal_frame(MessageTooLong("too long"), None)["code"] == "too_long"
    assert refusal_frame(NotAParticipant("no"), None)["code"] == "refused"  # any other rule


def test_close_codes_are_the_contracts() -> None:
    assert [int(code) for code in CloseCode] == [1011, 1012, 4001, 4003, 4008, 4029]
    assert closed_frame(5, 10) == {"type": "closed", "chat_id": 5, "reason": "user_deleted", "user_id": 10}
