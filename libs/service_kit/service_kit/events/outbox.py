"""Writing events into the outbox inside the caller's transaction."""

from sqlalchemy import Table, insert, text
from sqlalchemy.ext.asyncio import AsyncSession

from service_kit.events.data import EventData, envelope_of
from service_kit.events.envelope import EventEnvelope

# Relays LISTEN on this channel; NOTIFY is delivered only if the transaction commits.
OUTBOX_CHANNEL = "outbox_new_event"


class Outbox:
    def __init__(self, table: Table, producer: str) -> None:
        self.table = table
        self.producer = producer

    async def add(self, session: AsyncSession, data: EventData) -> EventEnvelope:
        """Adds the event of this model (its type and version, the model as ``data``) to the transaction."""
        envelope = envelope_of(data, self.producer)
        await session.execute(
            insert(self.table).values(
                event_id=envelope.event_id,
                event_type=envelope.type,
                envelope=envelope.model_dump(mode="json"),
            )
        )
        await session.execute(text(f"NOTIFY {OUTBOX_CHANNEL}"))
        return envelope
