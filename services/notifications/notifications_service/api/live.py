"""The live feed of a user's sockets on every replica: the kit's fan-out keyed by user id, with our frames."""

from typing import Any, Protocol

from notifications_service.api.frames import BADGE_CHANGED, closed_frame, notification_frame, read_frame
from notifications_service.domain.values import NotificationValue


class Publisher(Protocol):
    """service_kit.fanout.FanOut (channel <namespace>:notifications:user:<user_id>)."""

    async def publish(self, key: int, data: dict[str, Any]) -> None: ...


class LiveUserFeed:
    def __init__(self, channels: Publisher) -> None:
        self._channels = channels

    async def notified(self, user_id: int, notification: NotificationValue) -> None:
        await self._channels.publish(user_id, notification_frame(notification))

    async def badge_changed(self, user_id: int) -> None:
        await self._channels.publish(user_id, BADGE_CHANGED)

    async def read(self, user_id: int, ids: list[int] | None, up_to_seq: int | None) -> None:
        await self._channels.publish(user_id, read_frame(ids, up_to_seq))
        await self._channels.publish(user_id, BADGE_CHANGED)

    async def account_closed(self, user_id: int) -> None:
        await self._channels.publish(user_id, closed_frame(user_id))
