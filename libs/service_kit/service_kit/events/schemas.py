"""JSON Schemas of events, generated from their models (contracts/events/<type>.json).

The committed files are what other teams read; ``write_event_schemas`` rewrites them
from the models and ``schema_drift`` says how a committed file and its model differ.
Each schema is the envelope (envelope.json, written by hand) with this event's type,
version and producer fixed and ``data`` described by the model.
"""

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic.json_schema import GenerateJsonSchema

from service_kit.events.data import EventData

EVENT_SCHEMAS_DIR = Path(__file__).resolve().parents[4] / "contracts" / "events"
ENVELOPE_SCHEMA = "envelope.json"


class _WithoutTitles(GenerateJsonSchema):
    """Field titles would only repeat the field names."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


def schema_file_name(event_type: str, version: int) -> str:
    """``user.deleted.json`` for version 1, ``user.deleted.v2.json`` for later ones."""
    return f"{event_type}.json" if version == 1 else f"{event_type}.v{version}.json"


def event_schema(model: type[EventData]) -> dict[str, Any]:
    data = model.model_json_schema(schema_generator=_WithoutTitles)
    description = data.pop("description", None)
    if not description:
        raise ValueError(f"{model.__name__} needs a docstring: it is the event's description in its schema")
    data.pop("title", None)
    definitions = data.pop("$defs", None)  # referenced as "#/$defs/...", so they belong at the root
    schema: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": schema_file_name(model.event_type, model.event_version),
        "title": model.event_type if model.event_version == 1 else f"{model.event_type} v{model.event_version}",
        "description": " ".join(description.split()),
        "allOf": [{"$ref": ENVELOPE_SCHEMA}],
        "properties": {
            "type": {"const": model.event_type},
            "version": {"const": model.event_version},
            "producer": {"const": model.producer},
            "data": data,
        },
    }
    if definitions:
        schema["$defs"] = definitions
    return schema


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def write_event_schemas(models: Sequence[type[EventData]], directory: Path = EVENT_SCHEMAS_DIR) -> list[Path]:
    """Writes one schema per model and removes generated schemas no model has any more."""
    written = []
    for model in models:
        path = directory / schema_file_name(model.event_type, model.event_version)
        path.write_text(render(event_schema(model)), encoding="utf-8")
        written.append(path)
    for stale in set(directory.glob("*.json")) - set(written) - {directory / ENVELOPE_SCHEMA}:
        stale.unlink()
    return written


def _data_fields(schema: dict[str, Any]) -> tuple[set[str], set[str]]:
    data = schema.get("properties", {}).get("data", {})
    return set(data.get("properties", {})), set(data.get("required", []))


def schema_drift(model: type[EventData], committed: dict[str, Any] | None) -> list[str]:
    """What differs between the model and its committed schema, field by field first; empty if nothing."""
    if committed is None:
        return [f"{model.event_type} v{model.event_version} has a model but no committed schema"]
    generated = event_schema(model)
    if generated == committed:
        return []
    fields, required = _data_fields(generated)
    committed_fields, committed_required = _data_fields(committed)
    problems = [
        *(f"field {name!r} is in the model but not in the schema" for name in sorted(fields - committed_fields)),
        *(f"field {name!r} is in the schema but not in the model" for name in sorted(committed_fields - fields)),
        *(f"field {name!r} is required by one side only" for name in sorted(required ^ committed_required)),
    ]
    return problems or ["the schema differs from the one the model generates (types, bounds or descriptions)"]
