"""Async SQLAlchemy engine, sessions and the unit of work of one service's database.

The transaction rule (docs/architecture.md): domain code only adds and flushes;
whoever opened the unit of work (the HTTP dependency, the event consumer, the
socket handler of a chat frame) commits it once at the end or rolls it back.
Side effects that must follow the outcome (send an SMS, delete replaced files,
tell other replicas) are registered on the unit of work and run after it.

The hottest reads skip sessions altogether: ``fetch_one``/``fetch_all`` run one
SELECT on a pooled connection in autocommit mode, so a read costs one round trip
(no BEGIN, no ROLLBACK, no liveness ping). A connection the server closed is
never handed out (the pool checks it, without a round trip), and a read that
still meets a dead connection is retried once on a fresh one.
"""

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import Row, Select, event, text
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

logger = logging.getLogger(__name__)

SideEffect = Callable[[], Awaitable[None]]


class CommittedRefusal(Exception):
    """A refusal that keeps what was recorded before it (a failed code attempt that must count).

    The unit of work commits, then lets the refusal reach the caller; any other
    exception rolls everything back.
    """


class UnitOfWork:
    """One transaction and what is to happen once it committed or rolled back."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._after_commit: list[SideEffect] = []
        self._after_rollback: list[SideEffect] = []

    def after_commit(self, effect: SideEffect) -> None:
        """Runs ``effect`` once the transaction committed; an error it raises reaches the caller."""
        self._after_commit.append(effect)

    def after_rollback(self, effect: SideEffect) -> None:
        """Runs ``effect`` if the transaction rolled back (undo what happened outside the database)."""
        self._after_rollback.append(effect)


async def _run_all(effects: list[SideEffect]) -> None:
    """Runs every effect even if one fails; the first failure is raised afterwards."""
    failure: BaseException | None = None
    for effect in effects:
        try:
            await effect()
        except Exception as error:
            failure = failure or error
    if failure is not None:
        raise failure


def _refuse_closed_connections(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Pool checkout: a connection whose server went away (a restart) is replaced, not handed out."""
    if dbapi_connection.driver_connection.is_closed():
        raise DisconnectionError("connection closed by the server")


def _dead_connection(error: DBAPIError) -> bool:
    return bool(error.connection_invalidated)


class Database:
    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.engine: AsyncEngine = create_async_engine(url, pool_size=pool_size, max_overflow=10)
        event.listen(self.engine.sync_engine, "checkout", _refuse_closed_connections)
        self._autocommit = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        # Transactions of read sessions are READ ONLY (asyncpg opens them so: no extra round trip).
        self._read_sessions = async_sessionmaker(self.engine.execution_options(postgresql_readonly=True))

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[UnitOfWork]:
        """Commits when the block ends normally, rolls back when it raises; then the side effects."""
        async with self.sessions() as session:
            work = UnitOfWork(session)
            try:
                yield work
                await session.commit()
            except CommittedRefusal:
                await session.commit()
                await _run_all(work._after_commit)
                raise
            except BaseException:
                await session.rollback()
                try:
                    await _run_all(work._after_rollback)
                except Exception:
                    logger.exception("undoing a rolled-back unit of work failed")
                raise
        await _run_all(work._after_commit)

    @asynccontextmanager
    async def read_session(self) -> AsyncIterator[AsyncSession]:
        """A session for reads only: PostgreSQL refuses writes in it, and it is never committed."""
        async with self._read_sessions() as session:
            yield session

    async def fetch_all(self, query: Select[Any]) -> Sequence[Row[Any]]:
        """The rows of one SELECT, in one round trip; retried once on a connection that died meanwhile."""
        try:
            return await self._fetch_all(query)
        except DBAPIError as error:
            if not _dead_connection(error):
                raise
            return await self._fetch_all(query)

    async def fetch_one(self, query: Select[Any]) -> Row[Any] | None:
        rows = await self.fetch_all(query.limit(1))
        return rows[0] if rows else None

    async def _fetch_all(self, query: Select[Any]) -> Sequence[Row[Any]]:
        async with self._autocommit.connect() as connection:
            rows: Sequence[Row[Any]] = (await connection.execute(query)).all()
            return rows

    async def ping(self) -> None:
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()
