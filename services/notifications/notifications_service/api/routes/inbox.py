"""The inbox: a user's notifications, newest first, marking them read, and the unread badge."""

from typing import Annotated

from fastapi import APIRouter, Query

from notifications_service.api.deps import Container, CurrentUser, ReadSession, UnitOfWorkDep
from notifications_service.domain import inbox
from notifications_service.domain.kinds import Kind, PushStatus
from notifications_service.domain.values import NotificationValue
from notifications_service.schemas import BadgeOut, MarkRead, NotificationOut, NotificationPage, ReadResult
from service_kit.errors import error_responses

router = APIRouter(prefix="/notifications", tags=["notifications"])

MAX_SEQ = 2**63 - 1


def notification_out(notification: NotificationValue) -> NotificationOut:
    return NotificationOut(
        id=notification.id,
        seq=notification.seq,
        kind=Kind(notification.kind),
        title=notification.title,
        body=notification.body,
        data=notification.data,
        alert=notification.alert,
        push_status=PushStatus(notification.push_status),
        created_at=notification.created_at,
        read=notification.read_at is not None,
    )


@router.get("")
async def notifications(
    principal: CurrentUser,
    session: ReadSession,
    container: Container,
    before: Annotated[int | None, Query(ge=1, le=MAX_SEQ, description="`next_before` of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, description="Capped at the configured maximum (100)")] = 20,
    kind: Annotated[list[Kind] | None, Query(description="Only these kinds (repeat the parameter)")] = None,
    unread_only: bool = False,
) -> NotificationPage:
    """The caller's notifications, newest first, paged by sequence (a cursor, stable while new ones arrive)."""
    capped = min(limit, container.settings.inbox_page_max_limit)
    found = await inbox.page(
        session, principal.user_id, before=before, limit=capped, kinds=kind or (), unread_only=unread_only
    )
    return NotificationPage(
        items=[notification_out(item) for item in found.items], next_before=found.next_before, unread_count=found.unread
    )


@router.post("/read", responses=error_responses((404, "An id is not one of the caller's notifications")))
async def mark_read(body: MarkRead, principal: CurrentUser, work: UnitOfWorkDep, container: Container) -> ReadResult:
    """Marks the caller's notifications read: these `ids`, or every one up to `up_to_seq`. Their devices hear of it."""
    marked = await container.notifier.mark_read(work, principal.user_id, body.ids, body.up_to_seq)
    return ReadResult(marked=marked, unread_count=await inbox.unread_count(work.session, principal.user_id))


@router.get("/badge")
async def badge(principal: CurrentUser, session: ReadSession) -> BadgeOut:
    """What the caller has not read: notifications, and chat messages across all their chats."""
    found = await inbox.badge(session, principal.user_id)
    return BadgeOut(notifications=found.notifications, messages=found.messages, chats=found.chats)
