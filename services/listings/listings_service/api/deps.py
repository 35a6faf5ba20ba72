"""Dependencies the listings routes declare (the kit's, typed for this service)."""

from typing import Annotated

from fastapi import Depends

from listings_service.container import ListingsContainer
from service_kit.api import CurrentUser, ReadSession, UnitOfWorkDep, service_container
from service_kit.security import Principal, require_roles

Container = Annotated[ListingsContainer, Depends(service_container)]
Seller = Annotated[Principal, require_roles("realtor", "agency", "developer")]

__all__ = ["Container", "CurrentUser", "ReadSession", "Seller", "UnitOfWorkDep"]
