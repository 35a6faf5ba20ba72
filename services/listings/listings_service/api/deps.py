"""Dependencies the listings routes declare."""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from listings_service.container import ListingsContainer
from service_kit.security import Principal, require_principal, require_roles


def get_container(request: Request) -> ListingsContainer:
    container: ListingsContainer = request.app.state.container
    return container


Container = Annotated[ListingsContainer, Depends(get_container)]


async def get_session(container: Container) -> AsyncIterator[AsyncSession]:
    async with container.runtime.database.sessions() as session:
        yield session


Session = Annotated[AsyncSession, Depends(get_session)]
CurrentUser = Annotated[Principal, Depends(require_principal)]
Seller = Annotated[Principal, require_roles("realtor", "agency", "developer")]
