"""Database tables of the auth service."""

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, ForeignKey, Identity, Integer, String, Text, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from service_kit.events.tables import outbox_table, processed_events_table


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, Identity(), primary_key=True)
    phone: Mapped[str] = mapped_column(String(16), unique=True)  # E.164
    role: Mapped[str] = mapped_column(String(20))
    is_active: Mapped[bool] = mapped_column(Boolean, default=False)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    middle_name: Mapped[str | None] = mapped_column(String(100))
    sex: Mapped[str | None] = mapped_column(String(20))
    city: Mapped[str | None] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(254))
    user_type: Mapped[str | None] = mapped_column(String(50))
    whatsapp: Mapped[str | None] = mapped_column(String(100))
    telegram: Mapped[str | None] = mapped_column(String(100))
    viber: Mapped[str | None] = mapped_column(String(100))
    zoom: Mapped[str | None] = mapped_column(String(100))
    prop_city: Mapped[str | None] = mapped_column(String(100))
    prop_offer: Mapped[str | None] = mapped_column(String(100))
    prop_type: Mapped[str | None] = mapped_column(String(100))
    prop_state: Mapped[str | None] = mapped_column(String(100))
    about: Mapped[str | None] = mapped_column(Text)
    notifications_all_messages: Mapped[bool] = mapped_column(Boolean, default=True)
    notifications_new_matches: Mapped[bool] = mapped_column(Boolean, default=True)
    notifications_responses: Mapped[bool] = mapped_column(Boolean, default=True)
    notifications_contacts: Mapped[bool] = mapped_column(Boolean, default=True)
    notifications_news: Mapped[bool] = mapped_column(Boolean, default=False)
    avatar: Mapped[str | None] = mapped_column(String(64))  # stored file name
    licenses: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class ActivationCode(Base):
    """The one outstanding code of a phone's user; only its HMAC is kept."""

    __tablename__ = "activation_codes"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    code_hmac: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)


class RevokedUser(Base):
    """Users whose tokens must be refused (deleted now, banned later); never purged."""

    __tablename__ = "revoked_users"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    revoked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    reason: Mapped[str] = mapped_column(String(50))


class ChatContact(Base):
    """Users who share a chat, one row per direction (from chat.created): each sees the other's contacts."""

    __tablename__ = "chat_contacts"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    contact_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    since: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


outbox = outbox_table(Base.metadata)
processed_events = processed_events_table(Base.metadata)
