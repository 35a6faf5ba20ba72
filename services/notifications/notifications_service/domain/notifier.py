"""Who hears of what, on which channel: the rules of the notifications service (README, "Notifications").

Every event handler calls one method here with the consumer's unit of work. A
notification is recorded in the inbox once per user and thing (a unique key),
with the user's next sequence; whether it is pushed is decided in the same
transaction and the pushes are added to the push outbox (``push_deliveries``),
which the push worker sends. The user's sockets hear of it only after the
commit, through the live feed (fan-out between replicas). So a redelivered,
replayed or concurrently handled event never yields a second notification or a
second push, and a crash before the commit yields neither.

Domain code: it adds and flushes, never commits; Redis, sockets and providers
are behind the small interfaces below.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from event_contracts.chats import ChatCreated, ChatRead, MessageSent
from event_contracts.presence import chat_presence_topic
from event_contracts.properties import ContactRevealed
from event_contracts.search_requests import RequestMatched
from event_contracts.users import UserProfile
from notifications_service.domain import devices, inbox, recipients, texts
from notifications_service.domain.inbox import Draft
from notifications_service.domain.kinds import Kind, PushStatus
from notifications_service.domain.values import NotificationValue
from notifications_service.models import Announcement, ChatPushWindow, PushDelivery, Recipient
from service_kit.db import UnitOfWork

logger = logging.getLogger(__name__)


class PresenceReader(Protocol):
    """Whether someone has a chat open (service_kit.presence.Presence; written by the chat service)."""

    async def present(self, topic: str) -> bool: ...


class LiveFeed(Protocol):
    """A user's sockets on every replica (api/live.py, over service_kit.fanout.FanOut keyed by user id)."""

    async def notified(self, user_id: int, notification: NotificationValue) -> None: ...

    async def badge_changed(self, user_id: int) -> None: ...

    async def read(self, user_id: int, ids: list[int] | None, up_to_seq: int | None) -> None: ...

    async def account_closed(self, user_id: int) -> None: ...


@dataclass(frozen=True)
class PushPolicy:
    # Device platforms a configured provider delivers to.
    platforms: frozenset[str]
    # At most one push per chat and recipient in this window.
    message_window: timedelta
    # Older notifications are kept, not pushed.
    max_age: timedelta


def push_data(notification: NotificationValue) -> dict[str, str]:
    """What the app needs to open the right screen; push providers take strings only."""
    values: dict[str, Any] = {"kind": notification.kind, "notification_id": notification.id, "seq": notification.seq}
    values |= {key: value for key, value in notification.data.items() if value is not None}
    return {key: str(value) for key, value in values.items()}


class Notifier:
    def __init__(
        self, presence: PresenceReader, live: LiveFeed, wake_push_worker: Callable[[], None], policy: PushPolicy
    ) -> None:
        self._presence = presence
        self._live = live
        self._wake_push_worker = wake_push_worker
        self.policy = policy

    # -- users ---------------------------------------------------------------------------------

    @staticmethod
    async def remember_profile(work: UnitOfWork, profile: UserProfile, occurred_at: datetime) -> None:
        await recipients.remember_profile(work.session, profile, occurred_at)

    async def forget_user(self, work: UnitOfWork, user_id: int) -> None:
        """Nothing more for a deleted user: their inbox, devices and badge go, their sockets close."""
        await recipients.forget(work.session, user_id)
        work.after_commit(lambda: self._tell(self._live.account_closed(user_id)))

    # -- the five kinds ------------------------------------------------------------------------

    async def match(self, work: UnitOfWork, match: RequestMatched, occurred_at: datetime) -> None:
        """Both sides, once per (request, listing) and side: the buyer of the listing, the seller of the buyer."""
        key = f"match:{match.request_id}:{match.property_id}"
        ids = {"request_id": match.request_id, "property_id": match.property_id}
        sides = [
            (
                match.buyer_id,
                Draft(Kind.MATCH, f"{key}:buyer", texts.match_for_buyer(match.listing), ids | {"side": "buyer"}),
            ),
            (
                match.seller_id,
                Draft(
                    Kind.MATCH,
                    f"{key}:seller",
                    texts.match_for_seller(match.request),
                    # The seller may open a chat with this buyer now (the chat service allows it after a match).
                    ids | {"side": "seller", "buyer_id": match.buyer_id},
                ),
            ),
        ]
        # Users' rows are locked in id order, so two matches of the same two people cannot deadlock.
        for user_id, draft in sorted(sides, key=lambda side: side[0]):
            await self._notify(work, user_id, draft, occurred_at)

    async def chat_opened(self, work: UnitOfWork, chat: ChatCreated, occurred_at: datetime) -> None:
        """A response: the participant who did not open the chat hears of it (the seller, if the opener is unknown)."""
        opener = chat.opened_by if chat.opened_by in (chat.buyer_id, chat.seller_id) else chat.buyer_id
        to_seller = opener == chat.buyer_id
        recipient = chat.seller_id if to_seller else chat.buyer_id
        name = await recipients.name_of(work.session, opener)
        data = {"chat_id": chat.chat_id, "property_id": chat.property_id, "from_user_id": opener}
        draft = Draft(Kind.RESPONSE, f"chat:{chat.chat_id}", texts.response(name, to_seller=to_seller), data)
        await self._notify(work, recipient, draft, occurred_at)

    async def contact_revealed(self, work: UnitOfWork, reveal: ContactRevealed, occurred_at: datetime) -> None:
        """Once per listing and viewer: the owner learns who took their number."""
        if reveal.viewer_id == reveal.owner_id:
            return
        name = await recipients.name_of(work.session, reveal.viewer_id)
        data = {"property_id": reveal.property_id, "viewer_id": reveal.viewer_id}
        draft = Draft(
            Kind.CONTACT, f"contact:{reveal.property_id}:{reveal.viewer_id}", texts.contact(name, reveal.title), data
        )
        await self._notify(work, reveal.owner_id, draft, occurred_at)

    async def message(self, work: UnitOfWork, message: MessageSent) -> None:
        """Counts toward the recipient's badge; notifies only while they do not have the chat open, never the sender.

        The push is coalesced per chat: the first message after a quiet window pushes at once, with the
        chat's unread count; the others within the window reach the inbox and the badge only.
        """
        user_id = message.recipient_id
        if user_id == message.sender_id:
            return
        # A Redis read inside the transaction (bounded by its timeout, failing to "not looking"): it writes nothing.
        looking = await self._presence.present(chat_presence_topic(message.chat_id, user_id))
        session = work.session
        if await recipients.is_deleted(session, user_id):
            return
        unread_in_chat = await inbox.note_unread(session, user_id, message.chat_id, message.seq)
        if looking:
            work.after_commit(lambda: self._tell(self._live.badge_changed(user_id)))
            return
        sender = await recipients.name_of(session, message.sender_id)
        data = {
            "chat_id": message.chat_id,
            "message_id": message.message_id,
            "message_seq": message.seq,
            "sender_id": message.sender_id,
            "property_id": message.property_id,
        }
        draft = Draft(
            Kind.MESSAGE,
            f"message:{message.message_id}",
            texts.message(sender, message.text),
            data,
            chat_id=message.chat_id,
            message_seq=message.seq,
        )
        push_text = texts.message_push(sender, message.text, unread_in_chat)
        await self._notify(
            work, user_id, draft, message.created_at, push_text=push_text, window_of_chat=message.chat_id
        )

    async def chat_read(self, work: UnitOfWork, read: ChatRead) -> None:
        if await recipients.is_deleted(work.session, read.user_id):
            return
        await inbox.chat_read(work.session, read.user_id, read.chat_id, read.read_seq)
        work.after_commit(lambda: self._tell(self._live.badge_changed(read.user_id)))

    # -- news: an operator's announcement, in batches ---------------------------------------------

    @staticmethod
    async def new_announcement(work: UnitOfWork, title: str, body: str, roles: list[str] | None) -> int:
        announcement = Announcement(title=title, body=body, roles=roles or None)
        work.session.add(announcement)
        await work.session.flush()
        return announcement.id

    async def announce_batch(self, work: UnitOfWork, announcement_id: int, batch_size: int) -> tuple[int, bool]:
        """The next users (by id) who allow news and are in the roles asked; returns (how many, finished).

        Resumable: the cursor moves in the same transaction as the batch's notifications, and each user's
        notification of the announcement is unique, so a rerun after a crash repeats nothing.
        """
        session = work.session
        announcement = await session.get(Announcement, announcement_id, with_for_update=True)
        if announcement is None:
            raise LookupError(f"no announcement {announcement_id}")
        if announcement.finished_at is not None:
            return 0, True
        audience = select(Recipient.id).where(Recipient.news, ~Recipient.deleted, Recipient.id > announcement.cursor)
        if announcement.roles:
            audience = audience.where(Recipient.role.in_(announcement.roles))
        users = list(await session.scalars(audience.order_by(Recipient.id).limit(batch_size)))
        text_of = texts.Text(announcement.title, announcement.body)
        for user_id in users:
            draft = Draft(Kind.NEWS, f"news:{announcement_id}", text_of, {"announcement_id": announcement_id})
            await self._notify(work, user_id, draft, datetime.now(UTC))
        if users:
            announcement.cursor = users[-1]
            announcement.recipients += len(users)
        finished = len(users) < batch_size
        if finished:
            announcement.finished_at = await session.scalar(select(func.now()))
        return len(users), finished

    # -- the user's own actions ----------------------------------------------------------------

    async def mark_read(self, work: UnitOfWork, user_id: int, ids: list[int] | None, up_to_seq: int | None) -> int:
        """The user read these notifications (or all up to a seq); every device of theirs hears of it."""
        marked = await inbox.mark_read(work.session, user_id, ids=ids or (), up_to_seq=up_to_seq)
        work.after_commit(lambda: self._tell(self._live.read(user_id, ids, up_to_seq)))
        return marked

    # -- recording and deciding the push -------------------------------------------------------

    async def _notify(
        self,
        work: UnitOfWork,
        user_id: int,
        draft: Draft,
        occurred_at: datetime,
        *,
        push_text: texts.Text | None = None,
        window_of_chat: int | None = None,
    ) -> None:
        session = work.session
        slot = await recipients.take_slot(session, user_id)
        if slot is None:  # a deleted user
            return
        status, reachable = PushStatus.QUEUED, []
        if not slot.settings.allows(draft.kind):
            status = PushStatus.OFF
        elif occurred_at < datetime.now(UTC) - self.policy.max_age:
            status = PushStatus.STALE
        else:
            reachable = await devices.reachable(session, user_id, self.policy.platforms)
            if not reachable:
                status = PushStatus.NO_DEVICES
            elif window_of_chat is not None and not await self._window_open(
                session, user_id, window_of_chat, occurred_at
            ):
                status = PushStatus.COALESCED
        notification = await inbox.record(session, user_id, slot, draft, status)
        if notification is None:  # notified before, by another event of the same thing
            return
        if status is PushStatus.QUEUED:
            collapse_key = f"chat:{window_of_chat}" if window_of_chat is not None else f"notification:{notification.id}"
            text_of_push = push_text or draft.text
            await session.execute(
                insert(PushDelivery),
                [
                    {
                        "notification_id": notification.id,
                        "device_id": device_id,
                        "user_id": user_id,
                        "title": text_of_push.title,
                        "body": text_of_push.body,
                        "collapse_key": collapse_key,
                    }
                    for device_id in reachable
                ],
            )
            work.after_commit(self._wake)
        work.after_commit(lambda: self._tell(self._live.notified(user_id, notification)))

    async def _window_open(self, session: AsyncSession, user_id: int, chat_id: int, at: datetime) -> bool:
        """Takes the chat's push window if it is free (no push of it to this user in the last window)."""
        statement = insert(ChatPushWindow).values(user_id=user_id, chat_id=chat_id, pushed_at=at)
        taken = await session.scalar(
            statement.on_conflict_do_update(
                index_elements=[ChatPushWindow.user_id, ChatPushWindow.chat_id],
                set_={"pushed_at": statement.excluded.pushed_at},
                where=ChatPushWindow.pushed_at
                <= statement.excluded.pushed_at
                - text(f"interval '{self.policy.message_window.total_seconds()} seconds'"),
            ).returning(ChatPushWindow.pushed_at)
        )
        return taken is not None

    async def _wake(self) -> None:
        self._wake_push_worker()

    @staticmethod
    async def _tell(telling: Any) -> None:
        """Live frames are a fast path: a failure is logged, the socket catches up on its next frame or reconnect."""
        try:
            await telling
        except Exception:
            logger.warning("cannot tell a user's sockets", exc_info=True)
