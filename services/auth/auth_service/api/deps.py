"""Dependencies the auth routes declare (the kit's, typed for this service)."""

from typing import Annotated

from fastapi import Depends

from auth_service.container import AuthContainer
from service_kit.api import ClientIp, CurrentUser, ReadSession, UnitOfWorkDep, service_container

Container = Annotated[AuthContainer, Depends(service_container)]

__all__ = ["ClientIp", "Container", "CurrentUser", "ReadSession", "UnitOfWorkDep"]
