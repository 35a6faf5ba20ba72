"""Dependencies the chat routes declare (the kit's, typed for this service)."""

from typing import Annotated

from fastapi import Depends

from chat_service.container import ChatContainer
from service_kit.api import CurrentUser, ReadSession, UnitOfWorkDep, service_container

Container = Annotated[ChatContainer, Depends(service_container)]

__all__ = ["Container", "CurrentUser", "ReadSession", "UnitOfWorkDep"]
