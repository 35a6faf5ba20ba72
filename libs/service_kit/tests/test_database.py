"""Reads in one round trip, and connections the server dropped are never used for them."""

import asyncpg
from sqlalchemy import event, select
from sqlalchemy.dialects.postgresql import insert

from service_kit.db import Database
from service_kit.testing import POSTGRES_URL

from .conftest import COUNTERS


async def test_fetches_send_no_begin_and_no_rollback(clean_tables: Database) -> None:
    async with clean_tables.unit_of_work() as work:
        await work.session.execute(insert(COUNTERS).values(key="read", hits=3))
    statements: list[str] = []

    def log_statements(dbapi_connection: object, _record: object) -> None:
        dbapi_connection.driver_connection.add_query_logger(lambda record: statements.append(record.query))  # type: ignore[attr-defined]

    await clean_tables.engine.dispose()  # new connections get the logger
    event.listen(clean_tables.engine.sync_engine, "connect", log_statements)
    try:
        row = await clean_tables.fetch_one(select(COUNTERS.c.hits).where(COUNTERS.c.key == "read"))
        rows = await clean_tables.fetch_all(select(COUNTERS.c.key))
        async with clean_tables.read_session() as session:
            await session.execute(select(COUNTERS.c.key))
    finally:
        event.remove(clean_tables.engine.sync_engine, "connect", log_statements)
    assert row is not None and row.hits == 3 and [found.key for found in rows] == ["read"]
    # Only the session opened a (read-only) transaction; the fetches ran in autocommit.
    assert [query.split()[0].rstrip(";") for query in statements] == ["BEGIN", "ROLLBACK"]


async def test_a_server_restart_costs_a_read_nothing(clean_tables: Database) -> None:
    await clean_tables.fetch_all(select(COUNTERS.c.key))  # the pool now holds a connection
    database = clean_tables.engine.url.database
    admin = await asyncpg.connect(f"{POSTGRES_URL}/postgres")
    try:
        killed = await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = $1 AND pid <> pg_backend_pid()",
            database,
        )
    finally:
        await admin.close()
    assert killed >= 1
    assert await clean_tables.fetch_all(select(COUNTERS.c.key)) == []
