"""The event envelope: JSON round trip, type names and the request id it carries."""

import json
import uuid
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from service_kit.events.envelope import EventEnvelope
from service_kit.logging import request_id_var


def test_round_trip_through_json_keeps_every_field() -> None:
    original = EventEnvelope(type="property.created", producer="listings", data={"id": 7, "title": "Дом"})
    restored = EventEnvelope.model_validate_json(original.model_dump_json())
    assert restored == original
    # What the outbox stores (JSONB of mode="json") must parse back as well.
    assert EventEnvelope.model_validate(json.loads(json.dumps(original.model_dump(mode="json")))) == original
    assert isinstance(restored.event_id, uuid.UUID)
    assert restored.occurred_at.tzinfo is not None
    assert restored.version == 1


def test_defaults_are_fresh_per_event() -> None:
    first = EventEnvelope(type="user.registered", producer="auth", data={})
    second = EventEnvelope(type="user.registered", producer="auth", data={})
    assert first.event_id != second.event_id
    assert abs((datetime.now(UTC) - first.occurred_at).total_seconds()) < 5


@pytest.mark.parametrize("event_type", ["user.registered", "request.matched", "message.sent", "user.password_reset"])
def test_catalogue_types_are_accepted(event_type: str) -> None:
    assert EventEnvelope(type=event_type, producer="p", data={}).type == event_type


@pytest.mark.parametrize(
    "event_type", ["", "user", "User.registered", "user.", ".user", "user..registered", "user.registered!", "user-x.y"]
)
def test_bad_types_are_rejected(event_type: str) -> None:
    with pytest.raises(ValidationError):
        EventEnvelope(type=event_type, producer="p", data={})


@pytest.mark.parametrize("missing", ["type", "producer", "data"])
def test_required_fields(missing: str) -> None:
    fields: dict[str, object] = {"type": "user.updated", "producer": "auth", "data": {}}
    del fields[missing]
    with pytest.raises(ValidationError):
        EventEnvelope.model_validate(fields)


def test_version_must_be_positive() -> None:
    with pytest.raises(ValidationError):
        EventEnvelope(type="user.updated", producer="auth", data={}, version=0)


def test_request_id_comes_from_the_context() -> None:
    assert EventEnvelope(type="user.updated", producer="auth", data={}).request_id is None
    token = request_id_var.set("req-abcdef12")
    try:
        envelope = EventEnvelope(type="user.updated", producer="auth", data={})
    finally:
        request_id_var.reset(token)
    assert envelope.request_id == "req-abcdef12"
    assert EventEnvelope.model_validate_json(envelope.model_dump_json()).request_id == "req-abcdef12"
    # Set after the fact, the context must not leak into an envelope made earlier or later.
    assert EventEnvelope(type="user.updated", producer="auth", data={}).request_id is None
