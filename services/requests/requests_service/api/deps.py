"""Dependencies the requests routes declare."""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from requests_service.container import RequestsContainer
from service_kit.security import Principal, require_principal, require_roles


def get_container(request: Request) -> RequestsContainer:
    container: RequestsContainer = request.app.state.container
    return container


Container = Annotated[RequestsContainer, Depends(get_container)]


async def get_session(container: Container) -> AsyncIterator[AsyncSession]:
    async with container.runtime.database.sessions() as session:
        yield session


Session = Annotated[AsyncSession, Depends(get_session)]
CurrentUser = Annotated[Principal, Depends(require_principal)]
Buyer = Annotated[Principal, require_roles("user")]
