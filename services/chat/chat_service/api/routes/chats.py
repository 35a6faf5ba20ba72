"""Seed endpoints 13-15 under /chat (the socket, 16, is in ws.py)."""

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response, status

from chat_service.api.deps import Container, CurrentUser, ReadSession, UnitOfWorkDep
from chat_service.domain.values import ChatInfo, ChatMessage, ChatSummary, HistoryPage
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
from service_kit.errors import error_responses

router = APIRouter(prefix="/chat", tags=["chat"])

# chats.id and messages.seq are BIGINT: larger values would fail in PostgreSQL, so they are 422 here.
MAX_BIGINT = 2**63 - 1

_NOT_PARTICIPANT = (status.HTTP_403_FORBIDDEN, "The caller is not a participant (code `not_participant`)")
_NO_CHAT = (status.HTTP_404_NOT_FOUND, "No such chat")

# The paging facts of GET /chat/chat_messages/{chat_id}, in headers beside the array (exposed through CORS).
_PAGE_HEADERS: dict[str, dict[str, Any]] = {
    "Link": {
        "description": 'rel="prev": the older page (`before=`), rel="next": the newer page (`after=`); '
        "each only when there are such messages",
        "schema": {"type": "string"},
    },
    "X-Last-Seq": {"description": "The chat's newest seq (0 before the first message)", "schema": {"type": "integer"}},
    "X-Read-Seq": {"description": "The caller's read mark", "schema": {"type": "integer"}},
    "X-Other-Read-Seq": {"description": "How far the other participant has read", "schema": {"type": "integer"}},
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


def message_out(message: ChatMessage) -> MessageOut:
    return MessageOut(
        id=message.id,
        chat_id=message.chat_id,
        sender_id=message.sender_id,
        content=message.text,
        created_at=message.created_at,
        seq=message.seq,
        client_id=str(message.client_id) if message.client_id else None,
        text=message.text,
    )


def page_out(page: HistoryPage, user_id: int) -> MessagePage:
    chat = page.chat
    return MessagePage(
        chat_id=chat.id,
        messages=[message_out(message) for message in page.messages],
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
        **error_responses(
            (
                status.HTTP_403_FORBIDDEN,
                "The caller is neither buyer_id nor seller_id (code `not_participant`), or a seller approaches a buyer"
                " no request of whose the property matched and with whom they have no chat (`seller_needs_match`)",
            ),
            (status.HTTP_404_NOT_FOUND, "No such property"),
            (status.HTTP_409_CONFLICT, "The property is not active (code `property_not_active`)"),
            (status.HTTP_413_CONTENT_TOO_LARGE, "The body is larger than 1 MiB (refused by the gateway)"),
        ),
    },
)
async def create_chat(
    body: CreateChat, principal: CurrentUser, work: UnitOfWorkDep, container: Container, response: Response
) -> ChatOut:
    """Opens the chat of a buyer and a seller about the seller's active property; idempotent.

    The caller must be the buyer or the seller. A seller can only open a chat with a registered,
    non-deleted buyer (422 otherwise), about a listing that matched one of the buyer's requests or
    with a buyer they already have a chat with (403 otherwise). 201 when created, 200 with the same
    chat afterwards.
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


ChatId = Annotated[int, Path(ge=1, le=MAX_BIGINT)]
Before = Annotated[int | None, Query(ge=1, le=MAX_BIGINT, description="Only messages with a smaller seq")]
After = Annotated[int | None, Query(ge=0, le=MAX_BIGINT, description="Only messages with a bigger seq, oldest first")]
Limit = Annotated[int, Query(ge=1, le=100)]


@router.get(
    "/chat_messages/{chat_id}",
    responses={
        status.HTTP_200_OK: {"headers": _PAGE_HEADERS, "description": "The messages, oldest first"},
        **error_responses(_NOT_PARTICIPANT, _NO_CHAT),
    },
)
async def chat_messages(
    chat_id: ChatId,
    principal: CurrentUser,
    session: ReadSession,
    container: Container,
    request: Request,
    response: Response,
    before: Before = None,
    after: After = None,
    limit: Limit = 50,
) -> list[MessageOut]:
    """Seed #15: a page of the chat's history as an array of message records, for participants only.

    By default the newest ``limit`` messages; ``before=<seq>`` pages back, ``after=<seq>`` pages forward.
    The paging facts travel in headers: ``Link`` (rel="prev"/"next") and the read marks.
    ``GET /chat/chat_messages/{chat_id}/page`` gives the same page as one object.
    """
    page = await container.chats.history(session, chat_id, principal.user_id, before, after, limit)
    response.headers.update(page_headers(page, principal.user_id, request.url.path, limit))
    return [message_out(message) for message in page.messages]


@router.get("/chat_messages/{chat_id}/page", responses=error_responses(_NOT_PARTICIPANT, _NO_CHAT))
async def chat_messages_page(
    chat_id: ChatId,
    principal: CurrentUser,
    session: ReadSession,
    container: Container,
    before: Before = None,
    after: After = None,
    limit: Limit = 50,
) -> MessagePage:
    """The same page as ``GET /chat/chat_messages/{chat_id}``, with its paging facts in one object."""
    page = await container.chats.history(session, chat_id, principal.user_id, before, after, limit)
    return page_out(page, principal.user_id)


def page_headers(page: HistoryPage, user_id: int, path: str, limit: int) -> dict[str, str]:
    """Sequences have no gaps, so older messages exist below the first seq and newer ones up to last_seq."""
    chat, messages = page.chat, page.messages
    links = []
    if messages and messages[0].seq > 1:
        links.append(f'<{path}?before={messages[0].seq}&limit={limit}>; rel="prev"')
    if messages and messages[-1].seq < chat.last_seq:
        links.append(f'<{path}?after={messages[-1].seq}&limit={limit}>; rel="next"')
    headers = {
        "X-Last-Seq": str(chat.last_seq),
        "X-Read-Seq": str(chat.read_seq_of(user_id)),
        "X-Other-Read-Seq": str(chat.other_read_seq_of(user_id)),
    }
    if links:
        headers["Link"] = ", ".join(links)
    return headers
