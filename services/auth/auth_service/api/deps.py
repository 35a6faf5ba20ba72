"""Dependencies the auth routes declare."""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from auth_service.container import AuthContainer
from service_kit.security import Principal, require_principal


def get_container(request: Request) -> AuthContainer:
    container: AuthContainer = request.app.state.container
    return container


Container = Annotated[AuthContainer, Depends(get_container)]


async def get_session(container: Container) -> AsyncIterator[AsyncSession]:
    async with container.runtime.database.sessions() as session:
        yield session


def client_ip(request: Request) -> str:
    """The gateway replaces X-Forwarded-For with the real peer; services are not public."""
    forwarded = request.headers.get("x-forwarded-for", "")
    first = forwarded.split(",")[0].strip()
    return first or (request.client.host if request.client else "unknown")


Session = Annotated[AsyncSession, Depends(get_session)]
CurrentUser = Annotated[Principal, Depends(require_principal)]
ClientIp = Annotated[str, Depends(client_ip)]
