"""Push devices: registered idempotently, owned by whoever registered a token last, capped per user."""

import hashlib
from enum import StrEnum

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from notifications_service.domain.values import DeviceValue
from notifications_service.models import Device, PushDelivery


class Platform(StrEnum):
    FCM = "fcm"
    RUSTORE = "rustore"
    APNS = "apns"
    WEBPUSH = "webpush"


class DeviceNotFound(Exception):
    """No such device of this user."""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def device_value(device: Device) -> DeviceValue:
    return DeviceValue(id=device.id, platform=device.platform, registered_at=device.registered_at)


async def register(
    session: AsyncSession, user_id: int, platform: Platform, token: str, max_per_user: int
) -> tuple[DeviceValue, bool]:
    """The device of this token, now the caller's; returns (device, created).

    A token registered before by someone else (another account signed in on that install) moves to the
    caller, and pushes still waiting for the previous owner are dropped. Beyond ``max_per_user`` devices,
    the caller's least recently registered ones go.
    """
    digest = token_hash(token)
    statement = insert(Device).values(user_id=user_id, platform=platform.value, token=token, token_hash=digest)
    created = (
        await session.execute(statement.on_conflict_do_nothing(constraint="uq_devices_token").returning(Device))
    ).scalar_one_or_none()
    if created is not None:
        await _keep_newest(session, user_id, max_per_user)
        return device_value(created), True
    device = (
        await session.execute(
            update(Device)
            .where(Device.platform == platform.value, Device.token_hash == digest)
            .values(user_id=user_id, registered_at=func.now())
            .returning(Device)
            .execution_options(populate_existing=True)
        )
    ).scalar_one()
    await session.execute(
        delete(PushDelivery).where(
            PushDelivery.device_id == device.id, PushDelivery.status == "pending", PushDelivery.user_id != user_id
        )
    )
    await _keep_newest(session, user_id, max_per_user)
    return device_value(device), False


async def remove(session: AsyncSession, user_id: int, device_id: int) -> None:
    gone = await session.scalar(
        delete(Device).where(Device.id == device_id, Device.user_id == user_id).returning(Device.id)
    )
    if gone is None:
        raise DeviceNotFound(f"Device {device_id} not found")


async def remove_unregistered(session: AsyncSession, device_ids: list[int]) -> None:
    """Devices the provider says no longer exist (app removed, token expired); their pending pushes go too."""
    if device_ids:
        await session.execute(delete(Device).where(Device.id.in_(device_ids)))


async def of_user(session: AsyncSession, user_id: int) -> list[DeviceValue]:
    rows = await session.scalars(
        select(Device).where(Device.user_id == user_id).order_by(Device.registered_at.desc(), Device.id.desc())
    )
    return [device_value(device) for device in rows]


async def reachable(session: AsyncSession, user_id: int, platforms: frozenset[str]) -> list[int]:
    """The user's devices a configured provider can reach."""
    if not platforms:
        return []
    found = await session.scalars(
        select(Device.id).where(Device.user_id == user_id, Device.platform.in_(sorted(platforms))).order_by(Device.id)
    )
    return list(found)


async def _keep_newest(session: AsyncSession, user_id: int, keep: int) -> None:
    newest = (
        select(Device.id)
        .where(Device.user_id == user_id)
        .order_by(Device.registered_at.desc(), Device.id.desc())
        .limit(keep)
    )
    await session.execute(delete(Device).where(Device.user_id == user_id, Device.id.not_in(newest)))
