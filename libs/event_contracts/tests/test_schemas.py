"""The committed JSON Schemas (contracts/events/) are the ones the models generate, in both directions."""

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import Field

from event_contracts import catalogue
from service_kit.events.data import EventData
from service_kit.events.schemas import (
    ENVELOPE_SCHEMA,
    EVENT_SCHEMAS_DIR,
    event_schema,
    schema_drift,
    schema_file_name,
    write_event_schemas,
)
from service_kit.events.topology import subscriptions

MODELS = catalogue()


def committed(model: type[EventData]) -> dict[str, Any] | None:
    path = EVENT_SCHEMAS_DIR / schema_file_name(model.event_type, model.event_version)
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


@pytest.mark.parametrize("model", MODELS, ids=lambda model: f"{model.event_type}.v{model.event_version}")
def test_each_model_matches_its_committed_schema(model: type[EventData]) -> None:
    problems = schema_drift(model, committed(model))
    assert not problems, f"{model.__name__}: {'; '.join(problems)}. Run `make contracts` and review the diff"


def test_every_committed_schema_has_a_model() -> None:
    generated = {schema_file_name(model.event_type, model.event_version) for model in MODELS}
    on_disk = {path.name for path in EVENT_SCHEMAS_DIR.glob("*.json")} - {ENVELOPE_SCHEMA}
    assert on_disk - generated == set(), "schemas without a model: remove them or add their models"


def test_the_catalogue_is_the_minimum_one_and_every_subscribed_type_has_a_model() -> None:
    types = {model.event_type for model in MODELS}
    assert types >= {
        "user.registered",
        "user.activated",
        "user.updated",
        "user.deleted",
        "property.created",
        "property.updated",
        "property.deleted",
        "request.created",
        "request.matched",
        "chat.created",
        "message.sent",
    }
    subscribed = {event_type for event_types in subscriptions().values() for event_type in event_types}
    assert subscribed <= types


class Probe(EventData):
    """A probe event."""

    event_type = "probe.sent"
    producer = "tests"

    probe_id: int = Field(ge=1)
    note: str | None = None


def test_a_field_missing_from_the_schema_is_caught() -> None:
    schema = event_schema(Probe)
    del schema["properties"]["data"]["properties"]["note"]
    assert schema_drift(Probe, schema) == ["field 'note' is in the model but not in the schema"]


def test_a_field_missing_from_the_model_is_caught() -> None:
    schema = event_schema(Probe)
    schema["properties"]["data"]["properties"]["colour"] = {"type": "string"}
    schema["properties"]["data"]["required"].append("colour")
    assert schema_drift(Probe, schema) == [
        "field 'colour' is in the schema but not in the model",
        "field 'colour' is required by one side only",
    ]


def test_changed_bounds_and_missing_files_are_caught_too() -> None:
    schema = event_schema(Probe)
    loosened = copy.deepcopy(schema)
    loosened["properties"]["data"]["properties"]["probe_id"]["minimum"] = 0
    assert schema_drift(Probe, loosened) == [
        "the schema differs from the one the model generates (types, bounds or descriptions)"
    ]
    assert schema_drift(Probe, None) == ["probe.sent v1 has a model but no committed schema"]
    assert schema_drift(Probe, schema) == []


def test_writing_generates_every_schema_and_removes_stale_ones(tmp_path: Path) -> None:
    (tmp_path / ENVELOPE_SCHEMA).write_text("{}")
    (tmp_path / "gone.event.json").write_text("{}")
    written = write_event_schemas([Probe], tmp_path)
    assert [path.name for path in written] == ["probe.sent.json"]
    assert sorted(path.name for path in tmp_path.iterdir()) == [ENVELOPE_SCHEMA, "probe.sent.json"]
    assert schema_drift(Probe, json.loads(written[0].read_text())) == []


def test_later_versions_get_files_of_their_own() -> None:
    class ProbeV2(Probe):
        """The probe, second version."""

        event_version = 2

    assert event_schema(ProbeV2)["$id"] == "probe.sent.v2.json"
    assert event_schema(ProbeV2)["properties"]["version"] == {"const": 2}
    assert ProbeV2.names_an_event() and Probe.names_an_event() and not EventData.names_an_event()


def test_a_model_without_a_description_is_refused() -> None:
    class Undocumented(EventData):
        event_type = "probe.undocumented"
        producer = "tests"

    with pytest.raises(ValueError, match="docstring"):
        event_schema(Undocumented)
