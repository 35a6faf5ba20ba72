"""The unit of work: one commit by its owner, side effects after the commit, undo after a rollback."""

import pytest
from aio_pika.abc import AbstractRobustConnection
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from service_kit.db import CommittedRefusal, Database, UnitOfWork
from service_kit.events.consumer import EventConsumer, subscribe
from service_kit.events.data import Event, EventData
from service_kit.events.envelope import EventEnvelope
from service_kit.events.topology import Topology
from service_kit.testing import RABBITMQ_URL

from .conftest import COUNTERS, PROCESSED, publish_raw, wait_for


class Refused(CommittedRefusal):
    pass


async def hits(database: Database, key: str) -> int | None:
    async with database.read_session() as session:
        return await session.scalar(select(COUNTERS.c.hits).where(COUNTERS.c.key == key))


async def test_commit_then_effects_or_rollback_then_undo(clean_tables: Database) -> None:
    happened: list[str] = []

    async def note(what: str) -> None:
        happened.append(what)

    async with clean_tables.unit_of_work() as work:
        await work.session.execute(insert(COUNTERS).values(key="kept", hits=1))
        work.after_commit(lambda: note("committed"))
        work.after_rollback(lambda: note("undone"))
    assert happened == ["committed"] and await hits(clean_tables, "kept") == 1

    with pytest.raises(RuntimeError):
        async with clean_tables.unit_of_work() as work:
            await work.session.execute(insert(COUNTERS).values(key="lost", hits=1))
            work.after_commit(lambda: note("committed again"))
            work.after_rollback(lambda: note("undone"))
            raise RuntimeError("the request failed")
    assert happened == ["committed", "undone"] and await hits(clean_tables, "lost") is None


async def test_a_committed_refusal_keeps_its_writes_and_still_refuses(clean_tables: Database) -> None:
    with pytest.raises(Refused):
        async with clean_tables.unit_of_work() as work:
            await work.session.execute(insert(COUNTERS).values(key="counted", hits=1))
            raise Refused
    assert await hits(clean_tables, "counted") == 1


async def test_every_effect_runs_and_the_first_failure_is_raised(clean_tables: Database) -> None:
    ran: list[int] = []

    async def fail() -> None:
        ran.append(1)
        raise ValueError("first")

    async def succeed() -> None:
        ran.append(2)

    with pytest.raises(ValueError, match="first"):
        async with clean_tables.unit_of_work() as work:
            work.after_commit(fail)
            work.after_commit(succeed)
    assert ran == [1, 2]


async def test_read_sessions_cannot_write(clean_tables: Database) -> None:
    with pytest.raises(Exception, match="read-only transaction"):
        async with clean_tables.read_session() as session:
            await session.execute(insert(COUNTERS).values(key="never", hits=1))


class ItemAdded(EventData):
    """A test event."""

    event_type = "item.added"
    producer = "tests"


async def test_a_handler_acts_after_the_commit_and_not_after_a_failed_attempt(
    clean_tables: Database, topology: Topology, amqp: AbstractRobustConnection
) -> None:
    seen_by_effects: list[int | None] = []
    attempts = 0

    async def handler(work: UnitOfWork, event: Event[ItemAdded]) -> None:
        nonlocal attempts
        attempts += 1
        await work.session.execute(insert(COUNTERS).values(key="after-commit", hits=attempts))

        async def effect() -> None:
            # Another connection: sees the row only if the handler's transaction committed.
            seen_by_effects.append(await hits(clean_tables, "after-commit"))

        work.after_commit(effect)
        if attempts == 1:
            raise RuntimeError("the first attempt fails after registering its effect")

    consumer = EventConsumer(clean_tables, PROCESSED, RABBITMQ_URL, topology, "svc", [subscribe(ItemAdded, handler)])
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
