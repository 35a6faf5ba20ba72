"""The push worker: sends what the push outbox (``push_deliveries``) holds, on every replica.

Each pass claims a batch of due deliveries with ``FOR UPDATE SKIP LOCKED`` (so
replicas never send the same row), re-checks them against the user as they are
now (deleted: dropped; the setting turned off: not sent; too old: not sent),
sends the rest concurrently through the provider of each device's platform and
records every outcome in the same transaction that claimed the rows. A crash
before that commit releases the rows unsent-as-far-as-we-know, and they are
sent again: delivery is at least once, and the collapse key of a push makes a
repeat replace the first one on the device instead of adding a second
(docs/adr/0007-notifications.md).
"""

import asyncio
import contextlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from notifications_service.domain import devices, inbox
from notifications_service.domain.kinds import Kind, PushStatus, Settings
from notifications_service.domain.notifier import push_data
from notifications_service.domain.push import Outcome, PushMessage, PushProvider, PushResult
from notifications_service.domain.recipients import settings_of
from notifications_service.models import Device, Notification, PushDelivery, Recipient
from service_kit.db import Database

logger = logging.getLogger(__name__)

# Statuses of a delivery; "pending" ones are due at next_attempt_at.
PENDING, SENT, FAILED, OFF, STALE = "pending", "sent", "failed", "off", "stale"


def retry_delay(attempts: int, retry_after: float | None) -> float:
    """Seconds until the next try: exponential from 2 s, at most 5 minutes, never sooner than the provider asked."""
    return max(retry_after or 0.0, min(300.0, 2.0**attempts))


def overall_status(statuses: Sequence[str]) -> PushStatus:
    """A notification's push status from its deliveries' (one per device)."""
    found = set(statuses)
    if SENT in found:
        return PushStatus.SENT
    if PENDING in found:
        return PushStatus.QUEUED
    if found == {OFF}:
        return PushStatus.OFF
    if found == {STALE}:
        return PushStatus.STALE
    if not found:
        return PushStatus.NO_DEVICES
    return PushStatus.FAILED


@dataclass(frozen=True)
class _Due:
    delivery: PushDelivery
    platform: str
    token: str
    kind: str
    created_at: datetime
    settings: Settings | None  # None: the user is gone


class PushWorker:
    def __init__(
        self,
        database: Database,
        providers: Sequence[PushProvider],
        *,
        batch_size: int,
        poll_seconds: float,
        max_attempts: int,
        max_age: timedelta,
        ttl_seconds: int,
    ) -> None:
        self._db = database
        self._providers: Mapping[str, PushProvider] = {
            platform: provider for provider in providers for platform in provider.platforms
        }
        self._batch_size = batch_size
        self._poll_seconds = poll_seconds
        self._max_attempts = max_attempts
        self._max_age = max_age
        self._ttl_seconds = ttl_seconds
        self._wake = asyncio.Event()

    @property
    def platforms(self) -> frozenset[str]:
        return frozenset(self._providers)

    def wake(self) -> None:
        """A delivery was committed: send it now instead of at the next poll."""
        self._wake.set()

    async def run(self) -> None:
        """Sends until cancelled; database outages are waited out."""
        while True:
            self._wake.clear()
            try:
                while await self.send_due() == self._batch_size:
                    pass
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("push worker pass failed; retrying")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._poll_seconds)

    async def send_due(self) -> int:
        """One batch: claim, re-check, send, record; returns how many deliveries it settled."""
        async with self._db.unit_of_work() as work:
            session = work.session
            rows = (
                await session.execute(
                    select(
                        PushDelivery,
                        Device.platform,
                        Device.token,
                        Notification.kind,
                        Notification.created_at,
                        Recipient,
                    )
                    .join(Device, Device.id == PushDelivery.device_id)
                    .join(Notification, Notification.id == PushDelivery.notification_id)
                    .outerjoin(Recipient, Recipient.id == PushDelivery.user_id)
                    .where(PushDelivery.status == PENDING, PushDelivery.next_attempt_at <= func.now())
                    .order_by(PushDelivery.id)
                    .limit(self._batch_size)
                    .with_for_update(of=PushDelivery, skip_locked=True)
                )
            ).all()
            if not rows:
                return 0
            due = [
                _Due(
                    delivery,
                    platform,
                    token,
                    kind,
                    created_at,
                    None if recipient is None or recipient.deleted else settings_of(recipient),
                )
                for delivery, platform, token, kind, created_at, recipient in rows
            ]
            notifications = {
                row.id: row
                for row in await session.scalars(
                    select(Notification).where(Notification.id.in_({item.delivery.notification_id for item in due}))
                )
            }
            to_send = [item for item in due if self._still_wanted(item)]
            results = await asyncio.gather(
                *(self._send(item, notifications[item.delivery.notification_id]) for item in to_send)
            )
            unregistered: list[int] = []
            for item, result in zip(to_send, results, strict=True):
                if result.outcome is Outcome.UNREGISTERED:
                    unregistered.append(item.delivery.device_id)
                self._record(item.delivery, result)
            await session.flush()
            await devices.remove_unregistered(session, unregistered)
            await self._settle_notifications(session, set(notifications))
        return len(rows)

    def _still_wanted(self, item: _Due) -> bool:
        """Decided when the event came, checked again now: the setting or the account may have changed since."""
        delivery = item.delivery
        if item.settings is None or not item.settings.allows(Kind(item.kind)):
            delivery.status = OFF
        elif item.created_at < datetime.now(UTC) - self._max_age:
            delivery.status = STALE
        elif item.platform not in self._providers:
            delivery.status, delivery.last_error = FAILED, f"no provider for {item.platform}"
        else:
            return True
        return False

    async def _send(self, item: _Due, notification: Notification) -> PushResult:
        delivery = item.delivery
        message = PushMessage(
            title=delivery.title,
            body=delivery.body,
            data=push_data(inbox.value_of(notification)),
            collapse_key=delivery.collapse_key,
            ttl_seconds=self._ttl_seconds,
        )
        try:
            return await self._providers[item.platform].send(item.token, message)
        except Exception as error:  # a provider bug must not stop the others' pushes
            logger.exception("push provider failed", extra={"platform": item.platform})
            return PushResult(Outcome.RETRY, f"provider error: {type(error).__name__}")

    def _record(self, delivery: PushDelivery, result: PushResult) -> None:
        delivery.attempts += 1
        delivery.last_error = result.detail[:200] or None
        if result.outcome is Outcome.DELIVERED:
            delivery.status, delivery.sent_at = SENT, datetime.now(UTC)
        elif result.outcome is Outcome.RETRY and delivery.attempts < self._max_attempts:
            delay = retry_delay(delivery.attempts, result.retry_after)
            delivery.next_attempt_at = datetime.now(UTC) + timedelta(seconds=delay)
        else:
            delivery.status = FAILED
            if result.outcome is not Outcome.UNREGISTERED:
                logger.warning("push given up", extra={"outcome": result.outcome.value, "detail": result.detail})

    @staticmethod
    async def _settle_notifications(session: AsyncSession, notification_ids: set[int]) -> None:
        statuses: dict[int, list[str]] = {notification_id: [] for notification_id in notification_ids}
        for notification_id, status in await session.execute(
            select(PushDelivery.notification_id, PushDelivery.status).where(
                PushDelivery.notification_id.in_(notification_ids)
            )
        ):
            statuses[notification_id].append(status)
        for notification_id, found in statuses.items():
            await session.execute(
                update(Notification)
                .where(Notification.id == notification_id)
                .values(push_status=overall_status(found).value)
            )
