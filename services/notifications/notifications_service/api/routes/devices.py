"""Push devices of the caller: register a token (idempotent), list them, remove one."""

from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from notifications_service.api.deps import Container, CurrentUser, ReadSession, UnitOfWorkDep
from notifications_service.domain import devices
from notifications_service.domain.devices import Platform
from notifications_service.domain.values import DeviceValue
from notifications_service.schemas import DeviceIn, DeviceOut
from service_kit.errors import error_responses

router = APIRouter(prefix="/notifications/devices", tags=["notifications"])


def device_out(device: DeviceValue) -> DeviceOut:
    return DeviceOut(id=device.id, platform=Platform(device.platform), registered_at=device.registered_at)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses={status.HTTP_200_OK: {"model": DeviceOut, "description": "The token was registered already"}},
)
async def register_device(
    body: DeviceIn, principal: CurrentUser, work: UnitOfWorkDep, container: Container, response: Response
) -> DeviceOut:
    """Registers the app's push token for the caller; idempotent (201 the first time, 200 after).

    A token another account registered moves to the caller (one install, one signed-in user). The
    caller's oldest devices beyond 20 are dropped.
    """
    device, created = await devices.register(
        work.session, principal.user_id, body.platform, body.token, container.settings.max_devices_per_user
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    return device_out(device)


@router.get("")
async def my_devices(principal: CurrentUser, session: ReadSession) -> list[DeviceOut]:
    """The caller's devices, most recently registered first (tokens are never shown)."""
    return [device_out(device) for device in await devices.of_user(session, principal.user_id)]


@router.delete(
    "/{device_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses((404, "Not a device of the caller")),
)
async def remove_device(
    device_id: Annotated[int, Path(ge=1, le=2**63 - 1)], principal: CurrentUser, work: UnitOfWorkDep
) -> None:
    """No more pushes to this device (sign-out on it)."""
    await devices.remove(work.session, principal.user_id, device_id)
