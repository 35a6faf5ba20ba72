"""Seed endpoints 13-15 under /chat (the socket, 16, is in ws.py)."""

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response, status

from chat_service.api.deps import Container, CurrentUser, ReadSession, UnitOfWorkDep
from chat_service.domain.values import ChatInfo, ChatSummary, HistoryPage
from chat_service.schemas import (
    ChatOut,
    ChatSummaryOut,
    CreateChat,
    LastMessage,
    MessageOut,
    MessagePage,
    Participant,
    PropertyCard,
)

router = APIRouter(prefix="/chat", tags=["chat"])

# chats.id and messages.seq are BIGINT: larger values would fail in PostgreSQL, so they are 422 here.
MAX_BIGINT = 2**63 - 1

_ERRORS: dict[int | str, dict[str, Any]] = {
    status.HTTP_403_FORBIDDEN: {"description": "Not a participant"},
    status.HTTP_404_NOT_FOUND: {"description": "No such chat or property"},
}


def chat_out(chat: ChatInfo) -> ChatOut:
    return ChatOut(
        id=chat.id,
        buyer_id=chat.buyer_id,
        seller_id=chat.seller_id,
        property_id=chat.property_id,
        created_at=chat.created_at,
        closed=chat.closed,
    )


def summary_out(summary: ChatSummary) -> ChatSummaryOut:
    chat, listing, last = summary.chat, summary.property, summary.last_message
    last_message = None
    if last is not None:
        last_message = LastMessage(
            seq=last.seq, sender_id=last.sender_id, preview=last.preview, created_at=last.created_at
        )
    return ChatSummaryOut(
        id=chat.id,
        buyer_id=chat.buyer_id,
        seller_id=chat.seller_id,
        property_id=chat.property_id,
        other_user=Participant(id=summary.other_user_id, display_name=summary.other_user_name),
        property=PropertyCard(
            id=chat.property_id,
            title=listing.title if listing else None,
            cover_image_url=listing.cover_image_url if listing else None,
            status=listing.status if listing else None,
        ),
        last_message=last_message,
        last_activity_at=summary.last_activity_at,
        unread_count=summary.unread_count,
        closed=chat.closed,
    )


def page_out(page: HistoryPage, user_id: int) -> MessagePage:
    chat = page.chat
    return MessagePage(
        chat_id=chat.id,
        messages=[
            MessageOut(
                id=message.id,
                seq=message.seq,
                chat_id=message.chat_id,
                sender_id=message.sender_id,
                text=message.text,
                client_id=str(message.client_id) if message.client_id else None,
                created_at=message.created_at,
            )
            for message in page.messages
        ],
        has_more=page.has_more,
        last_seq=chat.last_seq,
        read_seq=chat.read_seq_of(user_id),
        other_read_seq=chat.other_read_seq_of(user_id),
    )


@router.post(
    "/create_chat",
    status_code=status.HTTP_201_CREATED,
    responses={
        status.HTTP_200_OK: {"model": ChatOut, "description": "The chat existed already"},
        **_ERRORS,
        status.HTTP_409_CONFLICT: {"description": "The property is not active"},
    },
)
async def create_chat(
    body: CreateChat, principal: CurrentUser, work: UnitOfWorkDep, container: Container, response: Response
) -> ChatOut:
    """Opens the chat of a buyer and a seller about the seller's active property; idempotent.

    The caller must be the buyer or the seller. A seller can only open a chat with a registered,
    non-deleted buyer (422 otherwise). 201 when created, 200 with the same chat afterwards.
    """
    chat, created = await container.chats.open(work, principal.user_id, body.buyer_id, body.seller_id, body.property_id)
    if not created:
        response.status_code = status.HTTP_200_OK
    return chat_out(chat)


@router.get("/my_chats")
async def my_chats(
    principal: CurrentUser,
    session: ReadSession,
    container: Container,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> list[ChatSummaryOut]:
    """The caller's chats, most recently active first, with the unread count of each."""
    summaries = await container.chats.of_user(session, principal.user_id, limit, offset)
    return [summary_out(summary) for summary in summaries]


@router.get("/chat_messages/{chat_id}", responses=_ERRORS)
async def chat_messages(
    chat_id: Annotated[int, Path(ge=1, le=MAX_BIGINT)],
    principal: CurrentUser,
    session: ReadSession,
    container: Container,
    before: Annotated[int | None, Query(ge=1, le=MAX_BIGINT, description="Only messages with a smaller seq")] = None,
    after: Annotated[
        int | None, Query(ge=0, le=MAX_BIGINT, description="Only messages with a bigger seq, oldest first")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> MessagePage:
    """A page of the chat's history, for participants only.

    By default the newest ``limit`` messages; ``before=<seq>`` pages back, ``after=<seq>`` pages forward.
    """
    page = await container.chats.history(session, chat_id, principal.user_id, before, after, limit)
    return page_out(page, principal.user_id)
