"""Database tables of the chat service: chats, messages and read models of users and listings."""

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from service_kit.events.tables import outbox_table, processed_events_table


class Base(DeclarativeBase):
    pass


class KnownUser(Base):
    """Display names from user.* events; a deleted user stays as a tombstone."""

    __tablename__ = "known_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    first_name: Mapped[str] = mapped_column(String(100), default="")
    last_name: Mapped[str] = mapped_column(String(100), default="")
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # occurred_at of the profile event applied last: an older event arriving late does not overwrite it.
    profile_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class KnownProperty(Base):
    """What chat needs of a listing, from property.* events (status 'deleted' after property.deleted)."""

    __tablename__ = "known_properties"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    owner_id: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text, default="")
    cover_image_url: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))
    # The listing's own updated_at: an older event arriving late does not overwrite a newer one.
    source_updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class KnownMatch(Base):
    """Matches from request.matched: a seller may open a chat with the buyer about that listing."""

    __tablename__ = "known_matches"
    __table_args__ = (Index("ix_known_matches_pair", "buyer_id", "seller_id", "property_id"),)

    request_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    property_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    buyer_id: Mapped[int] = mapped_column(BigInteger)
    seller_id: Mapped[int] = mapped_column(BigInteger)


class Chat(Base):
    __tablename__ = "chats"
    __table_args__ = (
        UniqueConstraint("buyer_id", "seller_id", "property_id", name="uq_chats_participants_property"),
        CheckConstraint("buyer_id <> seller_id", name="ck_chats_two_people"),
        Index("ix_chats_buyer_activity", "buyer_id", "last_activity_at"),
        Index("ix_chats_seller_activity", "seller_id", "last_activity_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    buyer_id: Mapped[int] = mapped_column(Integer)
    seller_id: Mapped[int] = mapped_column(Integer)
    property_id: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # Sequence of the newest message; the next one gets last_seq + 1 under this row's lock.
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    buyer_read_seq: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    seller_read_seq: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    last_message_preview: Mapped[str | None] = mapped_column(String(200))
    last_message_sender_id: Mapped[int | None] = mapped_column(Integer)
    last_message_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_activity_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # Set when a participant's account is deleted: history stays readable, nobody can send.
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("chat_id", "seq", name="uq_messages_chat_seq"),
        # A retried send with the same client_id finds the stored message instead of adding one.
        UniqueConstraint("chat_id", "sender_id", "client_id", name="uq_messages_client_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(BigInteger)
    sender_id: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    client_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


outbox = outbox_table(Base.metadata)
processed_events = processed_events_table(Base.metadata)
