"""Database tables of the listings service."""

from sqlalchemy.orm import DeclarativeBase

from service_kit.events.tables import outbox_table, processed_events_table


class Base(DeclarativeBase):
    pass


outbox = outbox_table(Base.metadata)
processed_events = processed_events_table(Base.metadata)
