"""One authenticated socket of a user (any of their devices), from its hello frame to its close code.

As the chat socket: a reader (client frames, one unit of work each, rate
limited), a writer draining the socket's own bounded queue, and a token watch.
Fan-out only ever puts into the queue without waiting, so a client that stops
reading fills its own queue and is closed (4008) without slowing anyone else.
Notification frames carry the user's sequence: the writer skips what the client
has and fills gaps from PostgreSQL, so each socket sees every notification once
and in order. The badge is read from PostgreSQL when it changed (several
changes queued together are read once), so it is never stale whatever order
replicas published in.
"""

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import ValidationError
from starlette.websockets import WebSocket, WebSocketDisconnect

from notifications_service.api.frames import (
    BADGE_CHANGED,
    RECONNECT_HINT,
    CloseCode,
    badge_frame,
    error_frame,
    hello_frame,
    invalid_frame_detail,
    notification_frame,
    parse_client_frame,
    reload_frame,
    seq_from_query,
)
from notifications_service.domain import inbox
from notifications_service.domain.inbox import NotFound
from notifications_service.domain.notifier import Notifier
from service_kit.db import Database
from service_kit.fanout import Frame, Listener
from service_kit.security import InvalidToken, TokenVerifier
from service_kit.tasks import cancel_and_wait

logger = logging.getLogger(__name__)

_SYNC = Frame("sync", "", {})  # queued to make the writer catch up from PostgreSQL
_BADGE_CHANGED = Frame.of(BADGE_CHANGED)


class UserChannels(Protocol):
    """Frames of a user, to and from every replica (service_kit.fanout.FanOut keyed by user id)."""

    async def join(self, key: int, listener: Listener) -> None: ...

    def leave(self, key: int, listener: Listener) -> None: ...


class RateLimit(Protocol):
    limit: int
    window_seconds: int

    async def allow(self, key: int) -> bool: ...


@dataclass(frozen=True)
class SocketServices:
    database: Database
    notifier: Notifier
    channels: UserChannels
    rate_limit: RateLimit
    verifier: TokenVerifier
    replica: str
    queue_size: int
    replay_limit: int
    token_check_seconds: float


class UserSocket:
    def __init__(self, websocket: WebSocket, user_id: int, token: str, services: SocketServices) -> None:
        self.user_id = user_id
        self.cursor = 0  # the last sequence this client has been sent
        self.close_code: CloseCode | None = None
        self.close_reason = ""
        self._ws = websocket
        self._token = token
        self._services = services
        self._queue: asyncio.Queue[Frame] = asyncio.Queue(maxsize=services.queue_size)
        self._done = asyncio.Event()
        self._badge_queued = False

    # -- called by fan-out and by this socket's own tasks: never block --------------------

    def deliver(self, frame: Frame) -> None:
        if self._done.is_set():
            return
        if frame.type == "closed":
            self.shut(CloseCode.INVALID_TOKEN, "account deleted: token revoked")
            return
        if frame.type == "badge_changed":
            if self._badge_queued:
                return  # one read of the badge serves every change queued before it
            self._badge_queued = True
        try:
            self._queue.put_nowait(frame)
        except asyncio.QueueFull:
            self.shut(CloseCode.TOO_SLOW, f"too slow to read: {RECONNECT_HINT}")

    def resync(self) -> None:
        self.deliver(_SYNC)

    def shut(self, code: CloseCode, reason: str) -> None:
        if not self._done.is_set():
            self.close_code, self.close_reason = code, reason
            self._done.set()

    # -- the socket's life --------------------------------------------------------------

    async def run(self, raw_after: str | None) -> None:
        """Hello, replay after ``?after=``, then live frames until the client leaves or the socket is shut."""
        channels = self._services.channels
        try:
            # Subscribed before the state is read: whatever commits later reaches this socket.
            await channels.join(self.user_id, self)
            await self._greet(raw_after)
            await self._run_tasks()
        except WebSocketDisconnect:
            return
        except Exception:
            logger.exception("notifications socket failed", extra={"user_id": self.user_id})
            self.shut(CloseCode.INTERNAL_ERROR, f"internal error: {RECONNECT_HINT}")
        finally:
            channels.leave(self.user_id, self)

    async def _greet(self, raw_after: str | None) -> None:
        services = self._services
        async with services.database.read_session() as session:
            last_seq = await inbox.last_seq(session, self.user_id)
            badge = await inbox.badge(session, self.user_id)
        await self._send_now(hello_frame(self.user_id, services.replica, last_seq, badge))
        after = seq_from_query(raw_after)
        if raw_after is not None and after is None:
            self.deliver(Frame.of(error_frame("invalid_after", "after must be a non-negative integer; replay skipped")))
        self.cursor = min(after, last_seq) if after is not None else last_seq
        if after is not None:
            self.resync()

    async def _run_tasks(self) -> None:
        tasks = [
            asyncio.create_task(self._read()),
            asyncio.create_task(self._write()),
            asyncio.create_task(self._watch_token()),
        ]
        shut = asyncio.create_task(self._done.wait())
        try:
            done, _ = await asyncio.wait([*tasks, shut], return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if task is not shut and not task.cancelled() and task.exception() is not None:
                    if not isinstance(task.exception(), WebSocketDisconnect):
                        logger.error("notifications socket task failed", exc_info=task.exception())
                        self.shut(CloseCode.INTERNAL_ERROR, f"internal error: {RECONNECT_HINT}")
        finally:
            await cancel_and_wait([*tasks, shut])

    # -- inbound: client frames -----------------------------------------------------------

    async def _read(self) -> None:
        rate_limit = self._services.rate_limit
        while True:
            message = await self._ws.receive()
            if message["type"] == "websocket.disconnect":
                return
            raw = message.get("text")
            if raw is None:
                self._reply(error_frame("unsupported", "binary frames are not supported: send JSON"))
                continue
            if not self._token_valid():
                self.shut(CloseCode.INVALID_TOKEN, "token expired or revoked: reconnect with a new token")
                return
            if not await rate_limit.allow(self.user_id):
                self.shut(
                    CloseCode.RATE_LIMITED, f"rate limited: {rate_limit.limit} frames per {rate_limit.window_seconds} s"
                )
                return
            await self._handle(raw)

    async def _handle(self, raw: str) -> None:
        try:
            frame = parse_client_frame(raw)
        except (ValidationError, ValueError) as error:
            self._reply(error_frame("invalid_frame", invalid_frame_detail(error)))
            return
        services = self._services
        try:
            async with services.database.unit_of_work() as work:
                await services.notifier.mark_read(work, self.user_id, frame.ids, frame.up_to_seq)
        except NotFound as refusal:
            self._reply(error_frame("not_found", str(refusal)))
        except Exception:
            logger.exception("notifications frame failed", extra={"user_id": self.user_id})
            self._reply(error_frame("unavailable", "not processed; send it again"))

    def _reply(self, data: dict[str, Any]) -> None:
        self.deliver(Frame.of(data))

    async def _watch_token(self) -> None:
        while True:
            await asyncio.sleep(self._services.token_check_seconds)
            if not self._token_valid():
                self.shut(CloseCode.INVALID_TOKEN, "token expired or revoked: reconnect with a new token")
                return

    def _token_valid(self) -> bool:
        try:
            self._services.verifier.verify(self._token)
        except InvalidToken:
            return False
        return True

    # -- outbound: this socket's queue, in seq order ------------------------------------------

    async def _write(self) -> None:
        while True:
            frame = await self._queue.get()
            if frame is _SYNC:
                await self._catch_up(up_to=None)
                self.deliver(_BADGE_CHANGED)
            elif frame.type == "notification":
                seq = int(frame.data["seq"])
                if seq > self.cursor + 1:
                    await self._catch_up(up_to=seq - 1)
                if seq > self.cursor:
                    await self._ws.send_text(frame.text)
                    self.cursor = seq
                    self.deliver(_BADGE_CHANGED)
            elif frame.type == "badge_changed":
                self._badge_queued = False
                async with self._services.database.read_session() as session:
                    badge = await inbox.badge(session, self.user_id)
                await self._send_now(badge_frame(badge))
            else:
                await self._ws.send_text(frame.text)

    async def _catch_up(self, up_to: int | None) -> None:
        """Sends what PostgreSQL has after the cursor, or a ``reload`` frame when that is too much."""
        services, limit = self._services, self._services.replay_limit
        async with services.database.read_session() as session:
            missed = await inbox.after(session, self.user_id, self.cursor, limit + 1, up_to)
            last_seq = (
                (up_to if up_to is not None else await inbox.last_seq(session, self.user_id))
                if len(missed) > limit
                else None
            )
        if last_seq is not None:
            await self._send_now(reload_frame(self.cursor, last_seq, limit))
            self.cursor = last_seq
            return
        for notification in missed:
            await self._send_now(notification_frame(notification))
            self.cursor = notification.seq

    async def _send_now(self, data: dict[str, Any]) -> None:
        await self._ws.send_text(Frame.of(data).text)
