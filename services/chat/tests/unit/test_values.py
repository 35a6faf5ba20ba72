"""The pure rules of the chat service's values: message texts, names, each side's read marks."""

from datetime import UTC, datetime

import pytest

from chat_service.domain.errors import EmptyMessage, MessageTooLong
from chat_service.domain.values import DELETED_USER_NAME, ChatInfo, display_name, message_text


def test_message_text_is_stripped_and_bounded() -> None:
    assert message_text("  привет \n", 10) == "привет"
    assert message_text("я" * 10, 10) == "я" * 10
    with pytest.raises(EmptyMessage):
        message_text(" \t\n ", 10)
    with pytest.raises(MessageTooLong, match="longer than 10 characters"):
        message_text("я" * 11, 10)
    assert message_text(" " * 50 + "ok" + " " * 50, 10) == "ok"  # measured after stripping


def test_display_name() -> None:
    assert display_name(7, "Анна", "Иванова", known=True, deleted=False) == "Анна Иванова"
    assert display_name(7, "Анна", "", known=True, deleted=False) == "Анна"
    assert display_name(7, "", "", known=True, deleted=False) == "Пользователь 7"
    assert display_name(7, "", "", known=False, deleted=False) == "Пользователь 7"
    assert display_name(7, "Анна", "Иванова", known=True, deleted=True) == DELETED_USER_NAME


def test_each_participant_sees_their_own_read_mark() -> None:
    chat = ChatInfo(1, 10, 20, 30, datetime(2026, 1, 1, tzinfo=UTC), 9, 7, 3, False)
    assert (chat.read_seq_of(10), chat.other_read_seq_of(10), chat.other_participant(10)) == (7, 3, 20)
    assert (chat.read_seq_of(20), chat.other_read_seq_of(20), chat.other_participant(20)) == (3, 7, 10)
