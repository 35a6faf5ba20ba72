"""Database tables of the notifications service: the inbox, devices, push deliveries and read models."""

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from service_kit.events.tables import outbox_table, processed_events_table


class Base(DeclarativeBase):
    pass


class Recipient(Base):
    """A user as notifications know them: name and settings from user.* events, and the inbox's sequence head.

    A row appears with the first profile event or the first notification, whichever comes first; until a
    profile arrives the settings are the account's defaults. A deleted user stays as a tombstone.
    """

    __tablename__ = "recipients"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    first_name: Mapped[str] = mapped_column(String(100), default="", server_default="")
    last_name: Mapped[str] = mapped_column(String(100), default="", server_default="")
    role: Mapped[str | None] = mapped_column(String(20))
    all_messages: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    new_matches: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    responses: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    contacts: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    news: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    deleted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    # occurred_at of the profile event applied last: an older one arriving late changes nothing.
    profile_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Sequence of the user's newest notification; the next one takes last_seq + 1 under this row's lock.
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class Notification(Base):
    """One entry of a user's inbox; ``dedup_key`` makes each thing notified once per user."""

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("user_id", "dedup_key", name="uq_notifications_dedup"),
        UniqueConstraint("user_id", "seq", name="uq_notifications_seq"),
        Index("ix_notifications_unread", "user_id", postgresql_where=text("read_at IS NULL")),
        Index(
            "ix_notifications_unread_chat",
            "user_id",
            "chat_id",
            postgresql_where=text("kind = 'message' AND read_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger)
    seq: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(20))
    dedup_key: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB)
    # The user's setting of this kind when it was created: off means recorded here, never pushed.
    alert: Mapped[bool] = mapped_column(Boolean)
    push_status: Mapped[str] = mapped_column(String(20))
    # A message notification is read when its chat is read up to its seq.
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    message_seq: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Device(Base):
    """A push token of an app install; it belongs to whoever registered it last (one install, one user)."""

    __tablename__ = "devices"
    __table_args__ = (
        UniqueConstraint("platform", "token_hash", name="uq_devices_token"),
        Index("ix_devices_user", "user_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger)
    platform: Mapped[str] = mapped_column(String(10))
    token: Mapped[str] = mapped_column(Text)
    # sha256 of the token: tokens can be long (web push subscriptions), the unique index stays small.
    token_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    registered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class PushDelivery(Base):
    """The push outbox: one row per notification and device, sent by the push worker of some replica."""

    __tablename__ = "push_deliveries"
    __table_args__ = (
        UniqueConstraint("notification_id", "device_id", name="uq_push_deliveries_once"),
        Index("ix_push_deliveries_due", "next_attempt_at", postgresql_where=text("status = 'pending'")),
        # Removing a device (unregistered, moved, signed out) deletes its deliveries.
        Index("ix_push_deliveries_device", "device_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id", ondelete="CASCADE"))
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(BigInteger)
    title: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    # Repeats of one push (a retry after a crash) and later pushes of one chat replace each other on the device.
    collapse_key: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20), default="pending", server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(String(200))


class ChatPushWindow(Base):
    """When a user was last pushed a message of a chat: at most one push per chat per window."""

    __tablename__ = "chat_push_windows"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    pushed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ChatReadMark(Base):
    """How far a user has read a chat (chat.read); messages up to it are not unread."""

    __tablename__ = "chat_read_marks"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    read_seq: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class UnreadMessage(Base):
    """A chat message its recipient has not read yet: the badge counts these rows; reading deletes them."""

    __tablename__ = "unread_messages"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)


class Announcement(Base):
    """An operator's announcement (kind news), fanned out in batches; ``cursor`` is the last user id done."""

    __tablename__ = "announcements"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    roles: Mapped[list[str] | None] = mapped_column(ARRAY(String(20)))
    cursor: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    recipients: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


outbox = outbox_table(Base.metadata)
processed_events = processed_events_table(Base.metadata)
