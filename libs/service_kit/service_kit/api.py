"""The dependencies every service's routes declare: the unit of work, read sessions, the caller.

A route that changes anything takes ``UnitOfWorkDep``: it commits once after the
handler returned (before the response is sent) or rolls back if it raised. A
route that only reads takes ``ReadSession``: a read-only transaction that is
never committed. The service's long-lived objects are ``app.state.container``.
"""

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from service_kit.db import Database, UnitOfWork
from service_kit.security import Principal, require_principal


def _database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


async def unit_of_work(request: Request) -> AsyncIterator[UnitOfWork]:
    async with _database(request).unit_of_work() as work:
        yield work


async def read_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with _database(request).read_session() as session:
        yield session


async def service_container(request: Request) -> Any:
    """The service's container; each service's api/deps.py gives it its own type."""
    return request.app.state.container


async def client_ip(request: Request) -> str:
    """The gateway replaces X-Forwarded-For with the real peer; services are not public."""
    forwarded = request.headers.get("x-forwarded-for", "")
    first = forwarded.split(",")[0].strip()
    return first or (request.client.host if request.client else "unknown")


# scope="function": the commit happens when the handler returns, so a failed commit is the answer.
UnitOfWorkDep = Annotated[UnitOfWork, Depends(unit_of_work, scope="function")]
ReadSession = Annotated[AsyncSession, Depends(read_session, scope="function")]
CurrentUser = Annotated[Principal, Depends(require_principal)]
ClientIp = Annotated[str, Depends(client_ip)]
