"""Typed event data: the base of every event model, and the event a handler receives.

An event model is the ``data`` of one event type and version; its class names the
event, so the envelope is filled in from it and its JSON Schema is generated from it:

    class UserDeleted(EventData):
        \"\"\"The account is gone.\"\"\"          # the schema's description

        event_type = "user.deleted"
        producer = "auth"

        user_id: int = Field(ge=1)

Unknown fields are ignored when parsing, so a producer may add fields without
breaking consumers; anything else that changes (a field removed, renamed or retyped)
is a new version: another model with the same type and ``event_version = 2``.
"""

import importlib
import pkgutil
import uuid
from dataclasses import dataclass
from datetime import datetime
from types import ModuleType
from typing import ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict

from service_kit.events.envelope import EventEnvelope


class EventData(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    event_type: ClassVar[str]
    event_version: ClassVar[int] = 1
    producer: ClassVar[str]

    @classmethod
    def names_an_event(cls) -> bool:
        """False for classes that only share fields: they set neither ``event_type`` nor ``event_version``."""
        return hasattr(cls, "event_type") and ("event_type" in cls.__dict__ or "event_version" in cls.__dict__)


D = TypeVar("D", bound=EventData)
D_co = TypeVar("D_co", bound=EventData, covariant=True)


@dataclass(frozen=True)
class Event(Generic[D_co]):
    """What a handler receives: the envelope's fields, and ``data`` parsed into its model.

    Covariant, so a handler of ``Event[UserProfile]`` serves user.registered and user.updated alike.
    """

    event_id: uuid.UUID
    type: str
    version: int
    occurred_at: datetime
    producer: str
    request_id: str | None
    data: D_co


def parse_event(envelope: EventEnvelope, model: type[D]) -> Event[D]:
    """The envelope with ``data`` parsed into ``model``; raises pydantic.ValidationError if it does not fit."""
    return Event(
        event_id=envelope.event_id,
        type=envelope.type,
        version=envelope.version,
        occurred_at=envelope.occurred_at,
        producer=envelope.producer,
        request_id=envelope.request_id,
        data=model.model_validate(envelope.data),
    )


def envelope_of(data: EventData, producer: str) -> EventEnvelope:
    """The envelope ``data`` travels in; only the producer its model names may send it."""
    if producer != data.producer:
        raise ValueError(f"{data.event_type} is published by {data.producer}, not by {producer}")
    return EventEnvelope(
        type=data.event_type, version=data.event_version, producer=producer, data=data.model_dump(mode="json")
    )


def event_models(package: ModuleType) -> list[type[EventData]]:
    """Every event model defined in the package's public modules, by type and version."""
    found: dict[tuple[str, int], type[EventData]] = {}
    for module_info in pkgutil.iter_modules(package.__path__, f"{package.__name__}."):
        if module_info.name.rpartition(".")[2].startswith("_"):
            continue  # __main__ and private helpers
        module = importlib.import_module(module_info.name)
        for value in vars(module).values():
            if not (isinstance(value, type) and issubclass(value, EventData) and value.__module__ == module.__name__):
                continue
            if not value.names_an_event():
                continue
            key = (value.event_type, value.event_version)
            if key in found:
                raise RuntimeError(f"{key[0]} version {key[1]} has two models: {found[key]} and {value}")
            found[key] = value
    return [found[key] for key in sorted(found)]
