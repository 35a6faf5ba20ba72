"""Dependencies the chat routes declare."""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from chat_service.container import ChatContainer
from service_kit.security import Principal, require_principal


def get_container(request: Request) -> ChatContainer:
    container: ChatContainer = request.app.state.container
    return container


Container = Annotated[ChatContainer, Depends(get_container)]


async def get_session(container: Container) -> AsyncIterator[AsyncSession]:
    async with container.runtime.database.sessions() as session:
        yield session


Session = Annotated[AsyncSession, Depends(get_session)]
CurrentUser = Annotated[Principal, Depends(require_principal)]
