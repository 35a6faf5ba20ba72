"""The chat service: what ``api/`` (REST and the socket) and ``events/`` ask of chats, in plain values.

Writes take the ``UnitOfWork`` their caller opened (the HTTP dependency, the
socket's handler of one frame, the event consumer) and only add and flush: the
caller commits once, or rolls back, and tells other replicas only after the
commit. Reads take a read-only session. Ids, texts and the dataclasses of
``domain/values.py`` go in and out; ORM rows stay in here.
"""

import uuid
from datetime import UTC, datetime

from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from chat_service.domain.errors import (
    ChatNotFound,
    InvalidParticipants,
    NotAParticipant,
    PropertyNotActive,
    PropertyNotFound,
    SellerNeedsMatch,
)
from chat_service.domain.messages import (
    AlreadyStored,
    last_seq,
    message_by_client_id,
    message_value,
    messages_after,
    move_read_mark,
    store_message,
)
from chat_service.domain.values import (
    ChatInfo,
    ChatMessage,
    ChatSummary,
    HistoryPage,
    LastMessage,
    PropertyInfo,
    Sent,
    display_name,
    message_text,
)
from chat_service.models import Chat, KnownMatch, KnownProperty, KnownUser, Message
from event_contracts.chats import ChatCreated, ChatRead
from service_kit.db import UnitOfWork
from service_kit.events.outbox import Outbox


def chat_created_event(chat: Chat, opened_by: int) -> ChatCreated:
    return ChatCreated(
        chat_id=chat.id,
        buyer_id=chat.buyer_id,
        seller_id=chat.seller_id,
        property_id=chat.property_id,
        created_at=chat.created_at,
        opened_by=opened_by,
    )


class ChatService:
    def __init__(self, outbox: Outbox, max_message_length: int) -> None:
        self._outbox = outbox
        self.max_message_length = max_message_length

    # -- chats --------------------------------------------------------------------------

    async def open(
        self, work: UnitOfWork, caller_id: int, buyer_id: int, seller_id: int, property_id: int
    ) -> tuple[ChatInfo, bool]:
        """The chat of these three, created if new (with chat.created); returns (chat, created)."""
        if caller_id not in (buyer_id, seller_id):
            raise NotAParticipant("You can only open a chat you take part in (as buyer_id or seller_id)")
        if buyer_id == seller_id:
            raise InvalidParticipants("buyer_id and seller_id must be different users", "seller_id")
        session = work.session
        existing = await self._find(session, buyer_id, seller_id, property_id)
        if existing is not None:
            return chat_value(existing), False
        await self._check_can_open(session, caller_id, buyer_id, seller_id, property_id)
        chat = (
            await session.scalars(
                insert(Chat)
                .values(buyer_id=buyer_id, seller_id=seller_id, property_id=property_id)
                .on_conflict_do_nothing(constraint="uq_chats_participants_property")
                .returning(Chat)
            )
        ).first()
        if chat is None:  # a concurrent request created it first
            raced = await self._find(session, buyer_id, seller_id, property_id)
            assert raced is not None
            return chat_value(raced), False
        await self._outbox.add(session, chat_created_event(chat, caller_id))
        return chat_value(chat), True

    @staticmethod
    async def _find(session: AsyncSession, buyer_id: int, seller_id: int, property_id: int) -> Chat | None:
        return (
            await session.scalars(
                select(Chat).where(
                    Chat.buyer_id == buyer_id, Chat.seller_id == seller_id, Chat.property_id == property_id
                )
            )
        ).first()

    @staticmethod
    async def _check_can_open(
        session: AsyncSession, caller_id: int, buyer_id: int, seller_id: int, property_id: int
    ) -> None:
        listing = await session.get(KnownProperty, property_id)
        if listing is None or listing.status == "deleted":
            raise PropertyNotFound(f"Property {property_id} not found")
        if listing.status != "active":
            raise PropertyNotActive(f"Property {property_id} is {listing.status}: chats open only about active ones")
        if listing.owner_id != seller_id:
            raise InvalidParticipants(f"seller_id {seller_id} does not own property {property_id}", "seller_id")
        known = {
            user.id: user
            for user in await session.scalars(select(KnownUser).where(KnownUser.id.in_([buyer_id, seller_id])))
        }
        for user_id in (buyer_id, seller_id):
            if user_id in known and known[user_id].deleted:
                field = "buyer_id" if user_id == buyer_id else "seller_id"
                raise InvalidParticipants(f"User {user_id} no longer exists", field)
        # A buyer opening the chat is proven by their token; a seller must name a real buyer, not any number.
        if caller_id != buyer_id and buyer_id not in known:
            raise InvalidParticipants(f"buyer_id {buyer_id} is not a registered user", "buyer_id")
        if caller_id == seller_id and not await _may_approach(session, buyer_id, seller_id, property_id):
            raise SellerNeedsMatch(
                f"A seller may open a chat only with a buyer whose request property {property_id} matches, "
                "or with whom they already have a chat"
            )

    async def participant_chat(self, session: AsyncSession, chat_id: int, user_id: int) -> ChatInfo:
        """The chat as it is now, if ``user_id`` takes part in it (ChatNotFound, NotAParticipant otherwise)."""
        return chat_value(await _participant_chat(session, chat_id, user_id))

    @staticmethod
    async def of_user(session: AsyncSession, user_id: int, limit: int, offset: int) -> list[ChatSummary]:
        """The user's chats, most recently active first."""
        other = aliased(KnownUser)
        other_id = case((Chat.buyer_id == user_id, Chat.seller_id), else_=Chat.buyer_id)
        my_read_seq = case((Chat.buyer_id == user_id, Chat.buyer_read_seq), else_=Chat.seller_read_seq)
        unread = (
            select(func.count())
            .where(Message.chat_id == Chat.id, Message.seq > my_read_seq, Message.sender_id != user_id)
            .correlate(Chat)
            .scalar_subquery()
        )
        rows = await session.execute(
            select(Chat, other, KnownProperty, unread)
            .outerjoin(other, other.id == other_id)
            .outerjoin(KnownProperty, KnownProperty.id == Chat.property_id)
            .where(or_(Chat.buyer_id == user_id, Chat.seller_id == user_id))
            .order_by(Chat.last_activity_at.desc(), Chat.id.desc())
            .limit(limit)
            .offset(offset)
        )
        return [_summary(chat, user_id, user, listing, int(unread_count)) for chat, user, listing, unread_count in rows]

    @staticmethod
    async def history(
        session: AsyncSession, chat_id: int, user_id: int, before: int | None, after: int | None, limit: int
    ) -> HistoryPage:
        """One page of messages in ascending order: the newest unless ``after`` asks for older-first paging."""
        chat = await _participant_chat(session, chat_id, user_id)
        conditions = [Message.chat_id == chat_id]
        if before is not None:
            conditions.append(Message.seq < before)
        if after is not None:
            conditions.append(Message.seq > after)
        order = Message.seq.asc() if after is not None else Message.seq.desc()
        found = list(await session.scalars(select(Message).where(and_(*conditions)).order_by(order).limit(limit + 1)))
        has_more = len(found) > limit
        page = found[:limit]
        if after is None:
            page.reverse()
        return HistoryPage(chat_value(chat), [message_value(message) for message in page], has_more)

    @staticmethod
    async def close_chats_of(work: UnitOfWork, user_id: int, closed_at: datetime) -> list[int]:
        """Closes the user's open chats (history stays for the other side, sends are refused); returns their ids."""
        closed = await work.session.scalars(
            update(Chat)
            .where(or_(Chat.buyer_id == user_id, Chat.seller_id == user_id), Chat.closed_at.is_(None))
            .values(closed_at=closed_at)
            .returning(Chat.id)
        )
        return list(closed)

    # -- messages -----------------------------------------------------------------------

    async def send(
        self, work: UnitOfWork, chat_id: int, sender_id: int, text: str, client_id: uuid.UUID | None
    ) -> Sent:
        """Adds the message with the chat's next sequence (and message.sent); nobody may be told before the commit.

        A ``client_id`` this sender used in this chat before returns the stored message as a
        duplicate and writes nothing. Refuses empty and too long texts and closed chats.
        """
        text = message_text(text, self.max_message_length)
        session = work.session
        if client_id is None:
            stored = await store_message(session, self._outbox, chat_id, sender_id, text, None)
            return Sent(message_value(stored), duplicate=False)
        earlier = await message_by_client_id(session, chat_id, sender_id, client_id)
        if earlier is None:
            try:
                # A savepoint: when a concurrent retry stored it first, only this sequence increment is undone.
                async with session.begin_nested():
                    stored = await store_message(session, self._outbox, chat_id, sender_id, text, client_id)
                return Sent(message_value(stored), duplicate=False)
            except AlreadyStored:
                earlier = await message_by_client_id(session, chat_id, sender_id, client_id)
                assert earlier is not None
        return Sent(message_value(earlier), duplicate=True)

    async def mark_read(self, work: UnitOfWork, chat: ChatInfo, user_id: int, seq: int) -> int:
        """Moves the user's read mark to ``seq`` (never back, never past the last message); returns the mark.

        chat.read tells the notifications service (the unread badge across all chats).
        """
        read_seq = await move_read_mark(work.session, chat.id, user_id == chat.buyer_id, seq)
        if read_seq is None:
            raise ChatNotFound(f"Chat {chat.id} not found")
        await self._outbox.add(
            work.session, ChatRead(chat_id=chat.id, user_id=user_id, read_seq=read_seq, read_at=datetime.now(UTC))
        )
        return read_seq

    @staticmethod
    async def remember_match(
        work: UnitOfWork, request_id: int, property_id: int, buyer_id: int, seller_id: int
    ) -> None:
        """request.matched: the listing's seller may approach this buyer from now on."""
        await work.session.execute(
            insert(KnownMatch)
            .values(request_id=request_id, property_id=property_id, buyer_id=buyer_id, seller_id=seller_id)
            .on_conflict_do_nothing()
        )

    @staticmethod
    async def messages_after(
        session: AsyncSession, chat_id: int, seq: int, limit: int, up_to: int | None = None
    ) -> list[ChatMessage]:
        """Replay: at most ``limit`` messages after ``seq`` (up to ``up_to`` if given), oldest first."""
        return await messages_after(session, chat_id, seq, limit, up_to)

    @staticmethod
    async def last_seq(session: AsyncSession, chat_id: int) -> int:
        return await last_seq(session, chat_id)


async def _may_approach(session: AsyncSession, buyer_id: int, seller_id: int, property_id: int) -> bool:
    """A seller opens a chat only about a listing that matched the buyer's request, or with a buyer they talk to."""
    matched = select(KnownMatch.request_id).where(
        KnownMatch.buyer_id == buyer_id, KnownMatch.seller_id == seller_id, KnownMatch.property_id == property_id
    )
    talking = select(Chat.id).where(
        or_(
            and_(Chat.buyer_id == buyer_id, Chat.seller_id == seller_id),
            and_(Chat.buyer_id == seller_id, Chat.seller_id == buyer_id),
        )
    )
    return bool(await session.scalar(select(matched.exists() | talking.exists())))


async def _participant_chat(session: AsyncSession, chat_id: int, user_id: int) -> Chat:
    chat = await session.get(Chat, chat_id, populate_existing=True)
    if chat is None:
        raise ChatNotFound(f"Chat {chat_id} not found")
    if user_id not in (chat.buyer_id, chat.seller_id):
        raise NotAParticipant("Only the chat's participants can see it")
    return chat


def chat_value(chat: Chat) -> ChatInfo:
    return ChatInfo(
        id=chat.id,
        buyer_id=chat.buyer_id,
        seller_id=chat.seller_id,
        property_id=chat.property_id,
        created_at=chat.created_at,
        last_seq=chat.last_seq,
        buyer_read_seq=chat.buyer_read_seq,
        seller_read_seq=chat.seller_read_seq,
        closed=chat.closed_at is not None,
    )


def _summary(
    chat: Chat, user_id: int, other: KnownUser | None, listing: KnownProperty | None, unread_count: int
) -> ChatSummary:
    info = chat_value(chat)
    other_user_id = info.other_participant(user_id)
    name = display_name(
        other_user_id,
        other.first_name if other else "",
        other.last_name if other else "",
        known=other is not None,
        deleted=other is not None and other.deleted,
    )
    last = None
    if chat.last_message_at is not None:
        last = LastMessage(
            chat.last_seq, chat.last_message_sender_id, chat.last_message_preview or "", chat.last_message_at
        )
    card = PropertyInfo(listing.title, listing.cover_image_url, listing.status) if listing else None
    return ChatSummary(info, other_user_id, name, card, last, chat.last_activity_at, unread_count)
