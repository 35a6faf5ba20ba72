"""Storing messages with a per-chat sequence, read receipts and replay, all in PostgreSQL."""

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from chat_service.domain.errors import ChatClosed, ChatNotFound
from chat_service.models import Chat, Message
from event_contracts.chats import MessageSent
from service_kit.events.outbox import Outbox

PREVIEW_LENGTH = 200


@dataclass(frozen=True)
class Sent:
    message: Message
    # True when client_id matched a message stored earlier: nothing new was written.
    duplicate: bool


class _AlreadyStored(Exception):
    """Rolls the sequence increment back when a concurrent retry stored the message first."""


def message_frame(message: Message) -> dict[str, Any]:
    return {
        "type": "message",
        "id": message.id,
        "seq": message.seq,
        "chat_id": message.chat_id,
        "sender_id": message.sender_id,
        "text": message.text,
        "client_id": str(message.client_id) if message.client_id else None,
        "created_at": message.created_at.isoformat(),
    }


class Messages:
    def __init__(self, outbox: Outbox) -> None:
        self._outbox = outbox

    async def send(
        self, session: AsyncSession, chat_id: int, sender_id: int, text: str, client_id: uuid.UUID | None
    ) -> Sent:
        """Commits the message with the chat's next sequence (and message.sent) before anyone is told."""
        if client_id is not None:
            async with session.begin():
                earlier = await self._by_client_id(session, chat_id, sender_id, client_id)
            if earlier is not None:
                return Sent(earlier, duplicate=True)
        try:
            async with session.begin():
                return Sent(await self._store(session, chat_id, sender_id, text, client_id), duplicate=False)
        except _AlreadyStored:
            pass
        async with session.begin():
            earlier = await self._by_client_id(session, chat_id, sender_id, client_id)
        assert earlier is not None
        return Sent(earlier, duplicate=True)

    async def _store(
        self, session: AsyncSession, chat_id: int, sender_id: int, text: str, client_id: uuid.UUID | None
    ) -> Message:
        # The row lock taken here orders concurrent senders: sequences have no gaps or repeats.
        chat = (
            await session.execute(
                update(Chat)
                .where(Chat.id == chat_id, Chat.closed_at.is_(None))
                .values(
                    last_seq=Chat.last_seq + 1,
                    last_message_preview=text[:PREVIEW_LENGTH],
                    last_message_sender_id=sender_id,
                    last_message_at=func.now(),
                    last_activity_at=func.now(),
                )
                .returning(Chat.last_seq, Chat.buyer_id, Chat.seller_id, Chat.property_id)
            )
        ).first()
        if chat is None:
            raise ChatClosed("This chat is closed: a participant's account was deleted")
        message = (
            await session.scalars(
                insert(Message)
                .values(chat_id=chat_id, seq=chat.last_seq, sender_id=sender_id, text=text, client_id=client_id)
                .on_conflict_do_nothing(constraint="uq_messages_client_id")
                .returning(Message)
            )
        ).first()
        if message is None:
            raise _AlreadyStored
        recipient_id = chat.seller_id if sender_id == chat.buyer_id else chat.buyer_id
        await self._outbox.add(
            session,
            MessageSent(
                message_id=message.id,
                chat_id=chat_id,
                seq=message.seq,
                sender_id=sender_id,
                recipient_id=recipient_id,
                property_id=chat.property_id,
                text=text,
                created_at=message.created_at,
            ),
        )
        return message

    @staticmethod
    async def _by_client_id(
        session: AsyncSession, chat_id: int, sender_id: int, client_id: uuid.UUID | None
    ) -> Message | None:
        return (
            await session.scalars(
                select(Message).where(
                    Message.chat_id == chat_id, Message.sender_id == sender_id, Message.client_id == client_id
                )
            )
        ).first()

    @staticmethod
    async def mark_read(session: AsyncSession, chat: Chat, user_id: int, seq: int) -> int:
        """Moves the reader's mark forward (never back, never past the last message); returns it."""
        column = Chat.buyer_read_seq if user_id == chat.buyer_id else Chat.seller_read_seq
        async with session.begin():
            read_seq = await session.scalar(
                update(Chat)
                .where(Chat.id == chat.id)
                .values({column: func.greatest(column, func.least(seq, Chat.last_seq))})
                .returning(column)
            )
        if read_seq is None:
            raise ChatNotFound(f"Chat {chat.id} not found")
        return int(read_seq)

    @staticmethod
    async def after(
        session: AsyncSession, chat_id: int, seq: int, limit: int, up_to: int | None = None
    ) -> list[Message]:
        """Messages after ``seq`` (up to ``up_to`` if given), oldest first."""
        conditions = [Message.chat_id == chat_id, Message.seq > seq]
        if up_to is not None:
            conditions.append(Message.seq <= up_to)
        async with session.begin():
            found = await session.scalars(select(Message).where(*conditions).order_by(Message.seq).limit(limit))
            return list(found)

    @staticmethod
    async def last_seq(session: AsyncSession, chat_id: int) -> int:
        async with session.begin():
            return int(await session.scalar(select(Chat.last_seq).where(Chat.id == chat_id)) or 0)
