"""Async SQLAlchemy engine, sessions and the unit of work of one service's database.

The transaction rule (docs/architecture.md): domain code only adds and flushes;
whoever opened the unit of work (the HTTP dependency, the event consumer, the
socket handler of a chat frame) commits it once at the end or rolls it back.
Side effects that must follow the outcome (send an SMS, delete replaced files,
tell other replicas) are registered on the unit of work and run after it.
"""

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

logger = logging.getLogger(__name__)

SideEffect = Callable[[], Awaitable[None]]
_OWNER = "service_kit.unit_of_work"  # the key of a session's unit of work in session.info


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
        session.info[_OWNER] = self

    @staticmethod
    def of(session: AsyncSession) -> "UnitOfWork":
        """The unit of work that owns ``session``: how an event handler, given the session, registers side effects."""
        work = session.info.get(_OWNER)
        if not isinstance(work, UnitOfWork):
            raise LookupError("this session does not belong to a unit of work")
        return work

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


class Database:
    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.engine: AsyncEngine = create_async_engine(url, pool_size=pool_size, max_overflow=10, pool_pre_ping=True)
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

    async def ping(self) -> None:
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()
