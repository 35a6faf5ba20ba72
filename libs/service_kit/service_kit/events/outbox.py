"""Writing events into the outbox inside the caller's transaction."""

from typing import Any

from sqlalchemy import Table, insert, text
from sqlalchemy.ext.asyncio import AsyncSession

from service_kit.events.envelope import EventEnvelope

# Relays LISTEN on this channel; NOTIFY is delivered only if the transaction commits.
OUTBOX_CHANNEL = "outbox_new_event"


class Outbox:
    def __init__(self, table: Table, producer: str) -> None:
        self.table = table
        self.producer = producer

    async def add(self, session: AsyncSession, event_type: str, data: dict[str, Any]) -> EventEnvelope:
        envelope = EventEnvelope(type=event_type, producer=self.producer, data=data)
        await session.execute(
            insert(self.table).values(
                event_id=envelope.event_id,
                event_type=envelope.type,
                envelope=envelope.model_dump(mode="json"),
            )
        )
        await session.execute(text(f"NOTIFY {OUTBOX_CHANNEL}"))
        return envelope
