"""Dependencies the notifications routes declare (the kit's, typed for this service)."""

from typing import Annotated

from fastapi import Depends

from notifications_service.container import NotificationsContainer
from service_kit.api import CurrentUser, ReadSession, UnitOfWorkDep, service_container

Container = Annotated[NotificationsContainer, Depends(service_container)]

__all__ = ["Container", "CurrentUser", "ReadSession", "UnitOfWorkDep"]
