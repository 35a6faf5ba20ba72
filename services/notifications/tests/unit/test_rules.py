"""The notifications service's pure rules: settings per kind, texts, frames, provider payloads and outcomes."""

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from event_contracts.search_requests import MatchedListing, MatchedRequest
from notifications_service.api.frames import MarkRead, parse_client_frame, seq_from_query
from notifications_service.domain import texts
from notifications_service.domain.fcm import classify_error as fcm_error
from notifications_service.domain.kinds import Kind, PushStatus, Settings
from notifications_service.domain.notifier import push_data
from notifications_service.domain.push import Outcome, retry_after_seconds
from notifications_service.domain.rustore import classify_error as rustore_error
from notifications_service.domain.values import NotificationValue
from notifications_service.push_worker import overall_status, retry_delay


@pytest.mark.parametrize(
    ("setting", "kind"),
    [
        ("new_matches", Kind.MATCH),
        ("all_messages", Kind.MESSAGE),
        ("responses", Kind.RESPONSE),
        ("contacts", Kind.CONTACT),
        ("news", Kind.NEWS),
    ],
)
def test_each_setting_governs_exactly_its_kind(setting: str, kind: Kind) -> None:
    everything = Settings(all_messages=True, new_matches=True, responses=True, contacts=True, news=True)
    off = Settings(**{**everything.__dict__, setting: False})
    assert [other for other in Kind if not off.allows(other)] == [kind]


def test_the_defaults_are_the_accounts() -> None:
    assert [kind for kind in Kind if not Settings().allows(kind)] == [Kind.NEWS]


@pytest.mark.parametrize(
    ("count", "word"),
    [
        (1, "сообщение"),
        (2, "сообщения"),
        (4, "сообщения"),
        (5, "сообщений"),
        (11, "сообщений"),
        (21, "сообщение"),
        (112, "сообщений"),
    ],
)
def test_russian_plurals(count: int, word: str) -> None:
    assert texts.plural(count, "сообщение", "сообщения", "сообщений") == word


def test_money_rooms_and_budgets_read_naturally() -> None:
    assert texts.money(9_000_000, "RUB") == "9 000 000 ₽"
    assert texts.money(1500.5, "USD") == "1 500.50 $"
    assert [texts.rooms_of_listing(rooms) for rooms in (None, 0, 3)] == [None, "студия", "3-комн."]
    assert [texts.rooms_of_request(rooms) for rooms in (None, "studio", "2", "4+")] == [
        None,
        "студия",
        "2-комн.",
        "от 4 комн.",
    ]
    request = MatchedRequest(city="Казань", currency="EUR", budget_min=100_000, budget_max=200_000)
    assert texts.budget(request) == "100 000 € – 200 000 €"
    assert texts.budget(request.model_copy(update={"budget_max": None})) == "от 100 000 €"
    assert texts.budget(request.model_copy(update={"budget_min": None, "budget_max": None})) is None


def test_match_texts_for_each_side_and_without_details() -> None:
    listing = MatchedListing(title="  ", city="Москва", price=15_000_000, currency="RUB", rooms=0)
    assert texts.match_for_buyer(listing).body == "Объявление — Москва, студия, 15 000 000 ₽"
    assert (texts.match_for_buyer(None).title, texts.match_for_seller(None).title) == (
        "Новый объект по вашей заявке",
        "Покупатель ищет такой объект",
    )
    request = MatchedRequest(city="Москва", district="Арбат", total_rooms="2", budget_max=20_000_000, currency="RUB")
    assert texts.match_for_seller(request).body == "Заявка: Москва, Арбат, 2-комн., до 20 000 000 ₽"


def test_message_texts_preview_and_count() -> None:
    long = "слово " * 100
    preview = texts.message("Анна", long).body
    assert len(preview) == texts.PREVIEW_LENGTH and preview.endswith("…")
    assert texts.message("Анна", "  двa\nслова ").body == "двa слова"
    assert texts.message_push("Анна", "ок", 1).body == "ок"
    assert texts.message_push("Анна", "ок", 3).body == "3 новых сообщения · ок"
    assert texts.display_name(" ", "", known=True) == texts.UNKNOWN_NAME
    assert texts.display_name("Иван", "Иванов", known=True, deleted=True) == texts.DELETED_NAME


def test_push_data_is_strings_for_the_app() -> None:
    notification = NotificationValue(
        id=7,
        seq=3,
        kind="match",
        title="t",
        body="b",
        data={"request_id": 5, "side": "buyer", "gone": None},
        alert=True,
        push_status="queued",
        created_at=datetime.now(UTC),
        read_at=None,
    )
    assert push_data(notification) == {
        "kind": "match",
        "notification_id": "7",
        "seq": "3",
        "request_id": "5",
        "side": "buyer",
    }


def test_a_notifications_push_status_comes_from_its_devices() -> None:
    assert overall_status(["failed", "sent"]) is PushStatus.SENT
    assert overall_status(["pending", "failed"]) is PushStatus.QUEUED
    assert overall_status(["off", "off"]) is PushStatus.OFF
    assert overall_status(["stale"]) is PushStatus.STALE
    assert overall_status(["failed", "off"]) is PushStatus.FAILED
    assert overall_status([]) is PushStatus.NO_DEVICES


def test_retries_back_off_and_honour_retry_after() -> None:
    assert [retry_delay(attempt, None) for attempt in (1, 2, 5, 20)] == [2.0, 4.0, 32.0, 300.0]
    assert retry_delay(1, 120.0) == 120.0
    assert [retry_after_seconds(raw) for raw in ("30", " 5 ", "soon", None)] == [30.0, 5.0, None, None]


FCM_TOKEN_ERROR = {"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": "INVALID_ARGUMENT"}
FIELD_ERROR = {"@type": "type.googleapis.com/google.rpc.BadRequest", "fieldViolations": [{"field": "message.data[0]"}]}


@pytest.mark.parametrize(
    ("status", "details", "outcome"),
    [
        (404, [{"errorCode": "UNREGISTERED"}], Outcome.UNREGISTERED),
        (400, [FCM_TOKEN_ERROR], Outcome.UNREGISTERED),
        (400, [FCM_TOKEN_ERROR, FIELD_ERROR], Outcome.REJECTED),  # our payload is wrong, not the device
        (403, [{"errorCode": "SENDER_ID_MISMATCH"}], Outcome.UNREGISTERED),
        (403, [{"errorCode": "PERMISSION_DENIED"}], Outcome.REJECTED),
        (401, [], Outcome.RETRY),
        (429, [{"errorCode": "QUOTA_EXCEEDED"}], Outcome.RETRY),
        (503, [], Outcome.RETRY),
        (400, [], Outcome.REJECTED),
    ],
)
def test_fcm_errors_mean_what_fcm_documents(status: int, details: list[dict[str, object]], outcome: Outcome) -> None:
    assert fcm_error(status, {"error": {"code": status, "message": "m", "details": details}}).outcome is outcome


def test_rustore_errors() -> None:
    assert rustore_error(404, {}).outcome is Outcome.UNREGISTERED
    assert [rustore_error(status, None).outcome for status in (401, 403, 429, 500)] == [Outcome.RETRY] * 4
    assert rustore_error(400, {"error": {"message": "bad"}}).detail == "bad"


def test_socket_frames_and_parameters() -> None:
    assert parse_client_frame('{"type": "read", "ids": [1, 2]}') == MarkRead(ids=[1, 2])
    assert parse_client_frame('{"type": "read", "up_to_seq": 0}').up_to_seq == 0
    for raw in ('{"type": "read"}', '{"type": "read", "ids": [0]}', '{"type": "like"}', '{"type": "read", "ids": []}'):
        with pytest.raises(ValidationError):
            parse_client_frame(raw)
    with pytest.raises(ValueError, match="JSON objects"):
        parse_client_frame("[1]")
    assert [seq_from_query(raw) for raw in ("12", None, "-1", "x", "1" * 19)] == [12, None, None, None, None]
