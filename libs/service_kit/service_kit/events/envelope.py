"""The envelope every integration event travels in (schema: contracts/events/envelope.json)."""

import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from service_kit.logging import request_id_var


class EventEnvelope(BaseModel):
    model_config = ConfigDict(frozen=True)

    event_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    type: str = Field(pattern=r"^[a-z]+(\.[a-z_]+)+$")
    version: int = Field(default=1, ge=1)
    occurred_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    producer: str
    # The request that caused the event, so one id follows the work across services.
    request_id: str | None = Field(default_factory=lambda: request_id_var.get())
    data: dict[str, Any]
