"""What producers and consumers share through the models: shapes, bounds, tolerance of new fields."""

from datetime import UTC, datetime
from typing import Any

import pytest
from jsonschema import ValidationError as SchemaError
from pydantic import ValidationError

from event_contracts.chats import ChatCreated, ChatRead, MessageSent
from event_contracts.properties import ContactRevealed, PropertyCreated, PropertyDeleted, PropertyUpdated
from event_contracts.search_requests import RequestCreated, RequestMatched
from event_contracts.users import UserActivated, UserDeleted, UserRegistered, UserUpdated
from marketplace_rules.vocabulary import Role
from service_kit.events.data import EventData, envelope_of, parse_event
from service_kit.testing import validate_event

NOW = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)
PROFILE = {
    "user_id": 7,
    "phone": "+79161234567",
    "first_name": "Иван",
    "last_name": "Иванов",
    "middle_name": None,
    "role": "realtor",
    "city": "Казань",
    "avatar_url": "/media/auth/a.jpg",
    "is_active": True,
}
PROPERTY = {
    "property_id": 11,
    "owner_id": 7,
    "status": "active",
    "deal_format": "sale",
    "type": "apartment",
    "subtype": "studio",
    "condition": None,
    "title": "Студия у парка",
    "city": "Москва",
    "district": None,
    "location": "г. Москва, ул. Тверская, д. 1",
    "price": 150000.0,
    "currency": "USD",
    "price_rub": 13500000.0,
    "rooms": 0,
    "total_area": 30.5,
    "cover_image_url": None,
    "created_at": NOW,
    "updated_at": NOW,
}
REQUEST = {
    "request_id": 3,
    "buyer_id": 8,
    "deal_format": "sale",
    "type": "apartment",
    "city": "Москва",
    "total_rooms": "4+",
    "budget_max": 15_000_000.0,
    "currency": "RUB",
    "created_at": NOW,
}
SAMPLES: list[tuple[type[EventData], dict[str, Any]]] = [
    (UserRegistered, PROFILE),
    (UserUpdated, PROFILE | {"city": None}),
    (UserActivated, {"user_id": 7}),
    (UserDeleted, {"user_id": 7}),
    (PropertyCreated, PROPERTY),
    (PropertyUpdated, PROPERTY | {"status": "archived"}),
    (PropertyDeleted, {"property_id": 11, "owner_id": 7}),
    (RequestCreated, REQUEST),
    (RequestMatched, {"request_id": 3, "buyer_id": 8, "property_id": 11, "seller_id": 7, "matched_at": NOW}),
    (
        RequestMatched,
        {
            "request_id": 3,
            "buyer_id": 8,
            "property_id": 11,
            "seller_id": 7,
            "matched_at": NOW,
            "listing": {"title": "Студия у парка", "city": "Москва", "price": 150000.0, "currency": "USD", "rooms": 0},
            "request": {"city": "Москва", "total_rooms": "4+", "budget_max": 15_000_000.0, "currency": "RUB"},
        },
    ),
    (ChatCreated, {"chat_id": 5, "buyer_id": 8, "seller_id": 7, "property_id": 11, "created_at": NOW}),
    (ChatCreated, {"chat_id": 5, "buyer_id": 8, "seller_id": 7, "property_id": 11, "created_at": NOW, "opened_by": 8}),
    (ChatRead, {"chat_id": 5, "user_id": 8, "read_seq": 0, "read_at": NOW}),
    (
        ContactRevealed,
        {"property_id": 11, "owner_id": 7, "viewer_id": 8, "title": "Студия у парка", "revealed_at": NOW},
    ),
    (
        MessageSent,
        {
            "message_id": 9,
            "chat_id": 5,
            "seq": 1,
            "sender_id": 8,
            "recipient_id": 7,
            "property_id": 11,
            "text": "Здравствуйте!",
            "created_at": NOW,
        },
    ),
]


@pytest.mark.parametrize(("model", "data"), SAMPLES, ids=lambda value: getattr(value, "event_type", ""))
def test_what_a_producer_builds_fits_the_schema_and_parses_back(model: type[EventData], data: dict[str, Any]) -> None:
    envelope = envelope_of(model.model_validate(data), model.producer)
    wire = envelope.model_dump(mode="json")
    validate_event(wire)
    assert parse_event(envelope, model).data == model.model_validate(data)


def test_consumers_ignore_fields_a_newer_producer_added() -> None:
    data = {"user_id": 7, "reason": "asked to", "meta": {"by": "support"}}
    assert UserDeleted.model_validate(data) == UserDeleted(user_id=7)


def test_only_the_named_producer_may_send_an_event() -> None:
    with pytest.raises(ValueError, match=r"user\.deleted is published by auth, not by chat"):
        envelope_of(UserDeleted(user_id=7), "chat")


@pytest.mark.parametrize(
    ("model", "data"),
    [
        (UserDeleted, {"user_id": 0}),
        (UserDeleted, {"user_id": 2**63}),
        (UserRegistered, PROFILE | {"phone": "89161234567"}),
        (UserRegistered, PROFILE | {"role": "admin"}),
        (UserRegistered, PROFILE | {"first_name": "И" * 101}),
        (UserRegistered, PROFILE | {"last_name": "a\x00b"}),
        (PropertyCreated, PROPERTY | {"price": 0}),
        (PropertyCreated, PROPERTY | {"price_rub": float("inf")}),
        (PropertyCreated, PROPERTY | {"deal_format": "хочу купить"}),
        (PropertyCreated, PROPERTY | {"status": "deleted"}),
        (PropertyCreated, PROPERTY | {"rooms": -1}),
        (PropertyCreated, PROPERTY | {"city": ""}),
        (PropertyCreated, PROPERTY | {"updated_at": "2026-12-06T10:00:00"}),
        (RequestCreated, REQUEST | {"total_rooms": "0"}),
        (RequestCreated, REQUEST | {"budget_max": -1}),
        (MessageSent, dict(SAMPLES[-1][1]) | {"text": ""}),
        (MessageSent, dict(SAMPLES[-1][1]) | {"seq": 0}),
        (ChatRead, {"chat_id": 5, "user_id": 8, "read_seq": -1, "read_at": NOW}),
        (ContactRevealed, {"property_id": 11, "owner_id": 7, "viewer_id": 0, "title": "", "revealed_at": NOW}),
        (UserUpdated, PROFILE | {"notifications_news": "sometimes"}),
    ],
)
def test_bounds_hold_on_both_sides(model: type[EventData], data: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        model.model_validate(data)


def test_the_schema_refuses_what_the_model_refuses() -> None:
    wire = envelope_of(PropertyDeleted(property_id=11, owner_id=7), "listings").model_dump(mode="json")
    for broken in ({"property_id": 0, "owner_id": 7}, {"owner_id": 7}):
        with pytest.raises(SchemaError):
            validate_event(wire | {"data": broken})


def test_roles_travel_as_codes() -> None:
    registered = UserRegistered.model_validate(PROFILE)
    assert registered.role is Role.REALTOR
    assert registered.model_dump(mode="json")["role"] == "realtor"


def test_profiles_sent_before_the_settings_travelled_carry_the_accounts_defaults() -> None:
    profile = UserRegistered.model_validate(PROFILE)
    assert (profile.notifications_new_matches, profile.notifications_all_messages) == (True, True)
    assert (profile.notifications_responses, profile.notifications_contacts) == (True, True)
    assert profile.notifications_news is False
