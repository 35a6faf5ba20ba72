"""The unit of work an event handler runs in: side effects after the commit, never after a rollback."""

import pytest
from aio_pika.abc import AbstractRobustConnection
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from service_kit.db import Database, UnitOfWork
from service_kit.events.consumer import EventConsumer
from service_kit.events.envelope import EventEnvelope
from service_kit.events.topology import Topology
from service_kit.testing import RABBITMQ_URL

from .conftest import COUNTERS, PROCESSED, publish_raw, wait_for


async def test_a_session_knows_its_unit_of_work(database: Database) -> None:
    async with database.unit_of_work() as work:
        assert UnitOfWork.of(work.session) is work
    async with database.sessions() as session:
        with pytest.raises(LookupError):
            UnitOfWork.of(session)


async def test_a_handler_acts_after_the_commit_and_not_after_a_failed_attempt(
    clean_tables: Database, topology: Topology, amqp: AbstractRobustConnection
) -> None:
    seen_by_effects: list[int | None] = []
    attempts = 0

    async def handler(session: AsyncSession, event: EventEnvelope) -> None:
        nonlocal attempts
        attempts += 1
        await session.execute(insert(COUNTERS).values(key="after-commit", hits=attempts))

        async def effect() -> None:
            # Another connection: sees the row only if the handler's transaction committed.
            async with clean_tables.sessions() as other:
                seen_by_effects.append(
                    await other.scalar(select(COUNTERS.c.hits).where(COUNTERS.c.key == "after-commit"))
                )

        UnitOfWork.of(session).after_commit(effect)
        if attempts == 1:
            raise RuntimeError("the first attempt fails after registering its effect")

    consumer = EventConsumer(clean_tables, PROCESSED, RABBITMQ_URL, topology, "svc", {"item.added": handler})
    await consumer.start()
    try:
        event = EventEnvelope(type="item.added", producer="tests", data={})
        await publish_raw(amqp, topology, event.model_dump_json().encode(), event.type)

        async def effect_ran() -> bool:
            return bool(seen_by_effects)

        await wait_for(effect_ran, what="the after-commit effect")
    finally:
        await consumer.stop()
    assert attempts == 2
    assert seen_by_effects == [2]  # once, for the attempt that committed, with its write visible
