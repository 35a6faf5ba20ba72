"""Whose contacts a user may see: their own, and those of the people they share a chat with.

Chat owns the chats; auth keeps who shares one with whom from ``chat.created``
(a read model, one row per direction). Everyone else sees a masked phone and no
e-mail, messenger handles or licence.
"""

from collections.abc import Collection

import phonenumbers
from sqlalchemy import delete, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from auth_service.models import ChatContact


async def record_chat(session: AsyncSession, buyer_id: int, seller_id: int) -> None:
    """Idempotent: a repeated or a second chat of the same two changes nothing."""
    rows = [{"user_id": buyer_id, "contact_id": seller_id}, {"user_id": seller_id, "contact_id": buyer_id}]
    await session.execute(insert(ChatContact).values(rows).on_conflict_do_nothing())


async def forget_user(session: AsyncSession, user_id: int) -> None:
    await session.execute(
        delete(ChatContact).where(or_(ChatContact.user_id == user_id, ChatContact.contact_id == user_id))
    )


async def visible_contacts(session: AsyncSession, viewer_id: int, user_ids: Collection[int]) -> set[int]:
    """Which of ``user_ids`` show their contacts to ``viewer_id``: the viewer and their chat partners."""
    others = [user_id for user_id in user_ids if user_id != viewer_id]
    shared: set[int] = set()
    if others:
        shared = set(
            await session.scalars(
                select(ChatContact.contact_id).where(
                    ChatContact.user_id == viewer_id, ChatContact.contact_id.in_(others)
                )
            )
        )
    return shared | ({viewer_id} & set(user_ids))


def mask_phone(e164: str) -> str:
    """The country, the first three and the last two digits: '+79197777779' -> '+7 919 ***-**-79'."""
    try:
        number = phonenumbers.parse(e164)
    except phonenumbers.NumberParseException:
        return "***"
    national = phonenumbers.national_significant_number(number)
    hidden = len(national) - 5
    if hidden <= 0:
        return f"+{number.country_code} ***"
    stars = "***-**-" if hidden == 5 else "*" * hidden
    return f"+{number.country_code} {national[:3]} {stars}{national[-2:]}"
