"""The SQL of messages behind ``ChatService``: per-chat sequences, read marks and replay.

Each function runs in the caller's transaction and never commits it.
"""

import uuid

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from chat_service.domain.errors import ChatClosed
from chat_service.domain.values import ChatMessage
from chat_service.models import Chat, Message
from event_contracts.chats import MessageSent
from service_kit.events.outbox import Outbox

PREVIEW_LENGTH = 200


class AlreadyStored(Exception):
    """A concurrent send with the same client_id stored the message first."""


def message_value(message: Message) -> ChatMessage:
    return ChatMessage(
        id=message.id,
        seq=message.seq,
        chat_id=message.chat_id,
        sender_id=message.sender_id,
        text=message.text,
        client_id=message.client_id,
        created_at=message.created_at,
    )


async def store_message(
    session: AsyncSession, outbox: Outbox, chat_id: int, sender_id: int, text: str, client_id: uuid.UUID | None
) -> Message:
    """Adds the message with the chat's next sequence, and message.sent to the outbox."""
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
        raise AlreadyStored
    recipient_id = chat.seller_id if sender_id == chat.buyer_id else chat.buyer_id
    await outbox.add(
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


async def message_by_client_id(
    session: AsyncSession, chat_id: int, sender_id: int, client_id: uuid.UUID
) -> Message | None:
    return (
        await session.scalars(
            select(Message).where(
                Message.chat_id == chat_id, Message.sender_id == sender_id, Message.client_id == client_id
            )
        )
    ).first()


async def move_read_mark(session: AsyncSession, chat_id: int, of_buyer: bool, seq: int) -> int | None:
    """Moves the reader's mark forward (never back, never past the last message); None if no such chat."""
    column = Chat.buyer_read_seq if of_buyer else Chat.seller_read_seq
    read_seq = await session.scalar(
        update(Chat)
        .where(Chat.id == chat_id)
        .values({column: func.greatest(column, func.least(seq, Chat.last_seq))})
        .returning(column)
    )
    return None if read_seq is None else int(read_seq)


async def messages_after(
    session: AsyncSession, chat_id: int, seq: int, limit: int, up_to: int | None
) -> list[ChatMessage]:
    conditions = [Message.chat_id == chat_id, Message.seq > seq]
    if up_to is not None:
        conditions.append(Message.seq <= up_to)
    found = await session.scalars(select(Message).where(*conditions).order_by(Message.seq).limit(limit))
    return [message_value(message) for message in found]


async def last_seq(session: AsyncSession, chat_id: int) -> int:
    return int(await session.scalar(select(Chat.last_seq).where(Chat.id == chat_id)) or 0)
