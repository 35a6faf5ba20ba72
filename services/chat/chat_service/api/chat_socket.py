"""One authenticated client of one chat, from its hello frame to its close code.

A socket runs three tasks. The reader turns each client frame into one call of
the chat service, in a unit of work of its own, and tells the other replicas
only once that committed. The writer drains the socket's own bounded queue:
fan-out and the reader only ever put into it without waiting, so a client that
stops reading fills its own queue and is closed (4008) without slowing anyone
else. Message frames carry the chat's sequence: the writer skips what the
client already has and fills gaps from PostgreSQL, so every socket sees each
message once and in order, whatever order replicas published them in. The
third task re-checks the token, so a socket that only listens is closed too
once its token expires or is revoked.
"""

import asyncio
import logging
import uuid
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import ValidationError
from starlette.websockets import WebSocket, WebSocketDisconnect

from chat_service.api.frames import (
    RECONNECT_HINT,
    CloseCode,
    SendMessage,
    ack_frame,
    error_frame,
    hello_frame,
    invalid_frame_detail,
    message_frame,
    parse_client_frame,
    read_frame,
    refusal_frame,
    reload_frame,
    seq_from_query,
)
from chat_service.domain.chats import ChatService
from chat_service.domain.errors import ChatError
from chat_service.domain.values import ChatInfo
from event_contracts.presence import chat_presence_topic
from service_kit.db import Database
from service_kit.fanout import Frame, Listener
from service_kit.security import InvalidToken, TokenVerifier
from service_kit.tasks import cancel_and_wait

logger = logging.getLogger(__name__)

_SYNC = Frame("sync", "", {})  # queued to make the writer catch up from PostgreSQL


class ChatChannels(Protocol):
    """Frames of a chat, to and from every replica (service_kit.fanout.FanOut keyed by chat id)."""

    async def join(self, key: int, listener: Listener) -> None: ...

    def leave(self, key: int, listener: Listener) -> None: ...

    async def publish(self, key: int, data: dict[str, Any]) -> None: ...


class ChatPresence(Protocol):
    """Who has which chat open, for every replica and service (service_kit.presence.Presence)."""

    async def enter(self, topic: str, member: str) -> None: ...

    async def leave(self, topic: str, member: str) -> None: ...


class RateLimit(Protocol):
    """Frames per user and window, all sockets together (service_kit.ratelimit.WindowRateLimit)."""

    limit: int
    window_seconds: int

    async def allow(self, key: int) -> bool: ...


@dataclass(frozen=True)
class SocketServices:
    """What every socket of a replica works with; built once by the container."""

    database: Database
    chats: ChatService
    channels: ChatChannels
    presence: ChatPresence
    rate_limit: RateLimit
    verifier: TokenVerifier
    replica: str
    queue_size: int
    replay_limit: int
    token_check_seconds: float


class ChatSocket:
    def __init__(
        self, websocket: WebSocket, chat: ChatInfo, user_id: int, token: str, services: SocketServices
    ) -> None:
        self.chat = chat
        self.user_id = user_id
        self.cursor = 0  # the last sequence this client has been sent
        self.close_code: CloseCode | None = None
        self.close_reason = ""
        self._ws = websocket
        self._token = token
        self._services = services
        self._queue: asyncio.Queue[Frame] = asyncio.Queue(maxsize=services.queue_size)
        self._done = asyncio.Event()
        self._presence = (chat_presence_topic(chat.id, user_id), uuid.uuid4().hex)

    @property
    def chat_id(self) -> int:
        return self.chat.id

    # -- called by fan-out and by this socket's own tasks: never block --------------------

    def deliver(self, frame: Frame) -> None:
        if self._done.is_set():
            return
        if frame.type == "closed" and (frame.data.get("user_id") == self.user_id or not self._token_valid()):
            self.shut(CloseCode.INVALID_TOKEN, "account deleted: token revoked")
            return
        try:
            self._queue.put_nowait(frame)
        except asyncio.QueueFull:
            self.shut(CloseCode.TOO_SLOW, f"too slow to read: {RECONNECT_HINT}")

    def resync(self) -> None:
        self.deliver(_SYNC)

    def shut(self, code: CloseCode, reason: str) -> None:
        """Ends the socket's tasks; the close frame with ``code`` follows."""
        if not self._done.is_set():
            self.close_code, self.close_reason = code, reason
            self._done.set()

    # -- the socket's life --------------------------------------------------------------

    async def run(self, raw_after: str | None) -> None:
        """Hello, replay after ``?after=``, then live frames until the client leaves or the socket is shut.

        Returns with ``close_code`` set when the server ends the socket; no exception escapes.
        """
        channels, presence = self._services.channels, self._services.presence
        try:
            # Subscribed before the state is read: whatever commits later reaches this socket.
            await channels.join(self.chat_id, self)
            # Present before the hello: a client that got it is not pushed this chat's messages.
            await presence.enter(*self._presence)
            await self._greet(raw_after)
            await self._run_tasks()
        except WebSocketDisconnect:
            return
        except Exception:
            logger.exception("chat socket failed", extra={"chat_id": self.chat_id})
            self.shut(CloseCode.INTERNAL_ERROR, f"internal error: {RECONNECT_HINT}")
        finally:
            channels.leave(self.chat_id, self)
            await presence.leave(*self._presence)

    async def _greet(self, raw_after: str | None) -> None:
        services = self._services
        async with services.database.read_session() as session:
            self.chat = await services.chats.participant_chat(session, self.chat_id, self.user_id)
        await self._send_now(hello_frame(self.chat, self.user_id, services.replica))
        after = seq_from_query(raw_after)
        if raw_after is not None and after is None:
            self.deliver(Frame.of(error_frame("invalid_after", "after must be a non-negative integer; replay skipped")))
        self.cursor = min(after, self.chat.last_seq) if after is not None else self.chat.last_seq
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
                        logger.error("chat socket task failed", exc_info=task.exception())
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
                self._reply(error_frame("unsupported", "binary frames are not supported: send JSON or plain text"))
                continue
            if not self._token_valid():
                self.shut(CloseCode.INVALID_TOKEN, "token expired or revoked: reconnect with a new token")
                return
            if not await rate_limit.allow(self.user_id):
                reason = f"rate limited: {rate_limit.limit} frames per {rate_limit.window_seconds} s"
                self.shut(CloseCode.RATE_LIMITED, reason)
                return
            await self._handle(raw)

    async def _handle(self, raw: str) -> None:
        try:
            frame = parse_client_frame(raw)
        except ValidationError as error:
            self._reply(error_frame("invalid_frame", invalid_frame_detail(error)))
            return
        client_id = frame.client_id if isinstance(frame, SendMessage) else None
        try:
            if isinstance(frame, SendMessage):
                await self._send_message(frame.body, client_id)
            else:
                await self._mark_read(frame.seq)
        except ChatError as refusal:
            self._reply(refusal_frame(refusal, client_id))
        except Exception:
            logger.exception("chat frame failed", extra={"chat_id": self.chat_id})
            self._reply(error_frame("unavailable", "not processed; send it again with the same client_id", client_id))

    async def _send_message(self, text: str, client_id: uuid.UUID | None) -> None:
        services = self._services
        async with services.database.unit_of_work() as work:
            sent = await services.chats.send(work, self.chat_id, self.user_id, text, client_id)
        self._reply(ack_frame(sent, client_id))
        if not sent.duplicate:
            await self._publish(message_frame(sent.message))

    async def _mark_read(self, seq: int) -> None:
        services = self._services
        async with services.database.unit_of_work() as work:
            read_seq = await services.chats.mark_read(work, self.chat, self.user_id, seq)
        await self._publish(read_frame(self.chat_id, self.user_id, read_seq))

    async def _publish(self, data: dict[str, Any]) -> None:
        """To every socket of the chat, this one included; called only after the commit."""
        try:
            await self._services.channels.publish(self.chat_id, data)
        except Exception:
            # Stored already: other sockets fill the gap from PostgreSQL with the next message or reconnect.
            logger.warning("fan-out publish failed", extra={"chat_id": self.chat_id})
            self.deliver(Frame.of(data))

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
            elif frame.type == "message":
                seq = int(frame.data["seq"])
                if seq > self.cursor + 1:
                    await self._catch_up(up_to=seq - 1)
                if seq == self.cursor + 1:
                    await self._ws.send_text(frame.text)
                    self.cursor = seq
            else:
                await self._ws.send_text(frame.text)

    async def _catch_up(self, up_to: int | None) -> None:
        """Sends what PostgreSQL has after the cursor, or a ``reload`` frame when that is too much."""
        services, limit = self._services, self._services.replay_limit
        last_seq: int | None = None
        async with services.database.read_session() as session:
            missed = await services.chats.messages_after(session, self.chat_id, self.cursor, limit + 1, up_to)
            if len(missed) > limit:
                last_seq = up_to if up_to is not None else await services.chats.last_seq(session, self.chat_id)
        if last_seq is not None:
            await self._send_now(reload_frame(self.chat_id, self.cursor, last_seq, limit))
            self.cursor = last_seq
            return
        for message in missed:
            await self._send_now(message_frame(message))
            self.cursor = message.seq

    async def _send_now(self, data: dict[str, Any]) -> None:
        await self._ws.send_text(Frame.of(data).text)
