"""Dependencies the requests routes declare (the kit's, typed for this service)."""

from typing import Annotated

from fastapi import Depends

from requests_service.container import RequestsContainer
from service_kit.api import ReadSession, UnitOfWorkDep, service_container
from service_kit.security import Principal, require_roles

Container = Annotated[RequestsContainer, Depends(service_container)]
Buyer = Annotated[Principal, require_roles("user")]

__all__ = ["Buyer", "Container", "ReadSession", "UnitOfWorkDep"]
