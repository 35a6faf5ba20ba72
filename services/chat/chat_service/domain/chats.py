"""Opening chats, listing a user's chats and paging their history."""

from dataclasses import dataclass

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from chat_service.domain.errors import (
    ChatNotFound,
    InvalidParticipants,
    NotAParticipant,
    PropertyNotActive,
    PropertyNotFound,
)
from chat_service.models import Chat, KnownProperty, KnownUser, Message
from event_contracts.chats import ChatCreated
from service_kit.db import UnitOfWork
from service_kit.events.outbox import Outbox

DELETED_USER_NAME = "Удалённый пользователь"


def display_name(user_id: int, user: KnownUser | None) -> str:
    if user is None:
        return f"Пользователь {user_id}"
    if user.deleted:
        return DELETED_USER_NAME
    return " ".join(part for part in (user.first_name, user.last_name) if part) or f"Пользователь {user_id}"


def read_seq_of(chat: Chat, user_id: int) -> int:
    return chat.buyer_read_seq if user_id == chat.buyer_id else chat.seller_read_seq


def other_participant(chat: Chat, user_id: int) -> int:
    return chat.seller_id if user_id == chat.buyer_id else chat.buyer_id


@dataclass(frozen=True)
class ChatSummary:
    chat: Chat
    other_user_id: int
    other_user_name: str
    property: KnownProperty | None
    unread_count: int


@dataclass(frozen=True)
class HistoryPage:
    chat: Chat
    messages: list[Message]
    has_more: bool


def chat_created_event(chat: Chat) -> ChatCreated:
    return ChatCreated(
        chat_id=chat.id,
        buyer_id=chat.buyer_id,
        seller_id=chat.seller_id,
        property_id=chat.property_id,
        created_at=chat.created_at,
    )


class Chats:
    def __init__(self, outbox: Outbox) -> None:
        self._outbox = outbox

    async def open(
        self, work: UnitOfWork, caller_id: int, buyer_id: int, seller_id: int, property_id: int
    ) -> tuple[Chat, bool]:
        """The chat of these three, created if new; returns (chat, created)."""
        if caller_id not in (buyer_id, seller_id):
            raise NotAParticipant("You can only open a chat you take part in (as buyer_id or seller_id)")
        if buyer_id == seller_id:
            raise InvalidParticipants("buyer_id and seller_id must be different users")
        session = work.session
        existing = await self._find(session, buyer_id, seller_id, property_id)
        if existing is not None:
            return existing, False
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
            return raced, False
        await self._outbox.add(session, chat_created_event(chat))
        return chat, True

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
            raise InvalidParticipants(f"seller_id {seller_id} does not own property {property_id}")
        known = {
            user.id: user
            for user in await session.scalars(select(KnownUser).where(KnownUser.id.in_([buyer_id, seller_id])))
        }
        for user_id in (buyer_id, seller_id):
            if user_id in known and known[user_id].deleted:
                raise InvalidParticipants(f"User {user_id} no longer exists")
        # A buyer opening the chat is proven by their token; a seller must name a real buyer, not any number.
        if caller_id != buyer_id and buyer_id not in known:
            raise InvalidParticipants(f"buyer_id {buyer_id} is not a registered user")

    @staticmethod
    async def participant_chat(session: AsyncSession, chat_id: int, user_id: int) -> Chat:
        chat = await session.get(Chat, chat_id, populate_existing=True)
        if chat is None:
            raise ChatNotFound(f"Chat {chat_id} not found")
        if user_id not in (chat.buyer_id, chat.seller_id):
            raise NotAParticipant("Only the chat's participants can see it")
        return chat

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
        summaries = []
        for chat, user, listing, unread_count in rows:
            other_user_id = other_participant(chat, user_id)
            summaries.append(
                ChatSummary(chat, other_user_id, display_name(other_user_id, user), listing, int(unread_count))
            )
        return summaries

    async def history(
        self, session: AsyncSession, chat_id: int, user_id: int, before: int | None, after: int | None, limit: int
    ) -> HistoryPage:
        """One page of messages in ascending order: the newest unless ``after`` asks for older-first paging."""
        chat = await self.participant_chat(session, chat_id, user_id)
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
        return HistoryPage(chat, page, has_more)
