"""The chat WebSocket: authentication, frames in, a bounded queue of frames out.

Each socket has two tasks: one reads client frames and stores messages, the
other drains the socket's own bounded queue. Fan-out only ever does a
non-blocking put into that queue, so a client that stops reading fills its
own queue and is disconnected (4008) without slowing anyone else. Message
frames carry the chat's sequence: the sender task skips what the client
already has and fills gaps from PostgreSQL, so every socket sees each
message once and in order, whatever order replicas published them in.
"""

import asyncio
import contextlib
import logging
import uuid
from typing import Any

from pydantic import ValidationError
from starlette.websockets import WebSocket, WebSocketDisconnect

from chat_service.domain.chats import Chats, read_seq_of
from chat_service.domain.errors import ChatClosed, ChatError, ChatNotFound, NotAParticipant
from chat_service.domain.fanout import FanOut, Frame
from chat_service.domain.frames import MarkRead, SendMessage, parse_client_frame
from chat_service.domain.messages import Messages, message_frame
from chat_service.domain.ratelimit import FrameRateLimit
from chat_service.models import Chat
from service_kit.db import Database
from service_kit.security import InvalidToken, TokenVerifier, token_from
from service_kit.tasks import cancel_and_wait

logger = logging.getLogger(__name__)

CLOSE_INTERNAL = 1011
CLOSE_RESTART = 1012
CLOSE_INVALID_TOKEN = 4001
CLOSE_FORBIDDEN = 4003
CLOSE_TOO_SLOW = 4008
CLOSE_RATE_LIMITED = 4029

RECONNECT_HINT = "reconnect with ?after=<last seq>"
MAX_ID = 2**63 - 1  # chats.id is a BIGINT
_SYNC = Frame("sync", "", {})


class SocketServer:
    """Serves every chat socket of this replica."""

    def __init__(
        self,
        *,
        database: Database,
        verifier: TokenVerifier,
        fanout: FanOut,
        chats: Chats,
        messages: Messages,
        rate_limit: FrameRateLimit,
        replica: str,
        queue_size: int,
        replay_limit: int,
        max_length: int,
        token_check_seconds: float = 30.0,
    ) -> None:
        self.database = database
        self.verifier = verifier
        self.fanout = fanout
        self.chats = chats
        self.messages = messages
        self.rate_limit = rate_limit
        self.replica = replica
        self.queue_size = queue_size
        self.replay_limit = replay_limit
        self.max_length = max_length
        self.token_check_seconds = token_check_seconds
        self._sockets: set[ChatSocket] = set()
        self._idle = asyncio.Event()  # set while no socket is open
        self._idle.set()

    async def serve(self, websocket: WebSocket, raw_chat_id: str) -> None:
        """Serves one socket; no exception escapes: anything unexpected is logged and closes it with 1011."""
        try:
            await self._serve(websocket, raw_chat_id)
        except WebSocketDisconnect:
            return
        except Exception:
            logger.exception("chat socket failed")
            await _close(websocket, CLOSE_INTERNAL, f"internal error: {RECONNECT_HINT}")

    async def _serve(self, websocket: WebSocket, raw_chat_id: str) -> None:
        # Accepted first: a browser cannot see why a refused handshake failed, but it sees close codes.
        await websocket.accept()
        try:
            token = token_from(websocket.headers.get("authorization"), websocket.query_params.getlist("token"))
        except InvalidToken as error:
            await _close(websocket, CLOSE_INVALID_TOKEN, str(error))
            return
        if not token:
            await _close(websocket, CLOSE_INVALID_TOKEN, "missing token: connect with ?token=<access token>")
            return
        try:
            principal = await self.verifier.verify_fetching_keys(token)
        except InvalidToken as error:
            await _close(websocket, CLOSE_INVALID_TOKEN, str(error))
            return
        chat_id = _chat_id(raw_chat_id)
        try:
            if chat_id is None:
                raise ChatNotFound(f"Chat {raw_chat_id[:30]!r} not found")
            async with self.database.sessions() as session:
                chat = await self.chats.participant_chat(session, chat_id, principal.user_id)
        except (ChatNotFound, NotAParticipant):
            await _close(websocket, CLOSE_FORBIDDEN, "no such chat, or you are not a participant")
            return
        socket = ChatSocket(websocket, chat, principal.user_id, token, self)
        self._sockets.add(socket)
        self._idle.clear()
        try:
            await self._start(socket, websocket.query_params.get("after"))
            await socket.run()
        except WebSocketDisconnect:
            return
        except Exception:
            logger.exception("chat socket failed", extra={"chat_id": chat.id})
            socket.shut(CLOSE_INTERNAL, f"internal error: {RECONNECT_HINT}")
        finally:
            self.fanout.leave(socket)
            self._sockets.discard(socket)
            if not self._sockets:
                self._idle.set()
        if socket.close_code is not None:
            await _close(websocket, socket.close_code, socket.close_reason)

    async def _start(self, socket: "ChatSocket", raw_after: str | None) -> None:
        # Subscribed before the state is read: whatever commits later reaches this socket.
        await self.fanout.join(socket)
        async with self.database.sessions() as session:
            chat = await self.chats.participant_chat(session, socket.chat_id, socket.user_id)
        after = _non_negative_int(raw_after)
        await socket.send_now(
            {
                "type": "hello",
                "chat_id": chat.id,
                "user_id": socket.user_id,
                "replica": self.replica,
                "last_seq": chat.last_seq,
                "read_seq": read_seq_of(chat, socket.user_id),
                "other_read_seq": chat.seller_read_seq if socket.user_id == chat.buyer_id else chat.buyer_read_seq,
                "closed": chat.closed_at is not None,
            }
        )
        if raw_after is not None and after is None:
            socket.deliver(_error("invalid_after", "after must be a non-negative integer; replay skipped"))
        socket.cursor = min(after, chat.last_seq) if after is not None else chat.last_seq
        if after is not None:
            socket.resync()

    def live_sockets(self) -> int:
        return len(self._sockets)

    async def shutdown(self, within_seconds: float = 5.0) -> None:
        """Graceful stop: every socket is closed with 1012 so clients reconnect to another replica."""
        for socket in list(self._sockets):
            socket.shut(CLOSE_RESTART, f"server restarting: {RECONNECT_HINT}")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), within_seconds)


class ChatSocket:
    def __init__(self, websocket: WebSocket, chat: Chat, user_id: int, token: str, server: SocketServer) -> None:
        self.chat_id = chat.id
        self.user_id = user_id
        self.cursor = 0  # the last sequence this client has been sent
        self.close_code: int | None = None
        self.close_reason = ""
        self._chat = chat
        self._ws = websocket
        self._token = token
        self._server = server
        self._queue: asyncio.Queue[Frame] = asyncio.Queue(maxsize=server.queue_size)
        self._done = asyncio.Event()

    # -- called by fan-out and by this socket's own reader: never block ---------------

    def deliver(self, frame: Frame) -> None:
        if self._done.is_set():
            return
        if frame.type == "closed" and (frame.data.get("user_id") == self.user_id or not self._token_valid()):
            self.shut(CLOSE_INVALID_TOKEN, "account deleted: token revoked")
            return
        try:
            self._queue.put_nowait(frame)
        except asyncio.QueueFull:
            self.shut(CLOSE_TOO_SLOW, f"too slow to read: {RECONNECT_HINT}")

    def resync(self) -> None:
        self.deliver(_SYNC)

    def shut(self, code: int, reason: str) -> None:
        if not self._done.is_set():
            self.close_code, self.close_reason = code, reason
            self._done.set()

    async def send_now(self, data: dict[str, Any]) -> None:
        await self._ws.send_text(Frame.of(data).text)

    # -- the socket's life ------------------------------------------------------------

    async def run(self) -> None:
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
                        self.shut(CLOSE_INTERNAL, f"internal error: {RECONNECT_HINT}")
        finally:
            await cancel_and_wait([*tasks, shut])

    async def _read(self) -> None:
        while True:
            message = await self._ws.receive()
            if message["type"] == "websocket.disconnect":
                return
            raw = message.get("text")
            if raw is None:
                self.deliver(_error("unsupported", "binary frames are not supported: send JSON or plain text"))
                continue
            if not self._token_valid():
                self.shut(CLOSE_INVALID_TOKEN, "token expired or revoked: reconnect with a new token")
                return
            if not await self._server.rate_limit.allow(self.user_id):
                limit = self._server.rate_limit
                self.shut(CLOSE_RATE_LIMITED, f"rate limited: {limit.limit} frames per {limit.window_seconds} s")
                return
            await self._handle(raw)

    async def _watch_token(self) -> None:
        """A socket that only listens is still closed once its token expires or is revoked."""
        while True:
            await asyncio.sleep(self._server.token_check_seconds)
            if not self._token_valid():
                self.shut(CLOSE_INVALID_TOKEN, "token expired or revoked: reconnect with a new token")
                return

    async def _handle(self, raw: str) -> None:
        try:
            frame = parse_client_frame(raw)
        except ValidationError as error:
            problem = error.errors()[0]
            where = ".".join(str(part) for part in problem["loc"])
            self.deliver(_error("invalid_frame", f"{where}: {problem['msg']}" if where else problem["msg"]))
            return
        try:
            if isinstance(frame, SendMessage):
                await self._send_message(frame.text, frame.client_id)
            else:
                await self._mark_read(frame)
        except ChatClosed as error:
            self.deliver(_error("chat_closed", str(error), frame))
        except ChatError as error:
            self.deliver(_error("refused", str(error), frame))
        except Exception:
            logger.exception("chat frame failed", extra={"chat_id": self.chat_id})
            self.deliver(_error("unavailable", "not processed; send it again with the same client_id", frame))

    async def _send_message(self, text: str, client_id: uuid.UUID | None) -> None:
        text = text.strip()
        echo = {"client_id": str(client_id)} if client_id else {}
        if not text:
            self.deliver(_error("empty", "message text is empty", extra=echo))
            return
        if len(text) > self._server.max_length:
            self.deliver(_error("too_long", f"message longer than {self._server.max_length} characters", extra=echo))
            return
        async with self._server.database.sessions() as session:
            sent = await self._server.messages.send(session, self.chat_id, self.user_id, text, client_id)
        stored = sent.message
        self.deliver(
            Frame.of(
                {
                    "type": "ack",
                    "chat_id": self.chat_id,
                    "client_id": str(client_id) if client_id else None,
                    "id": stored.id,
                    "seq": stored.seq,
                    "created_at": stored.created_at.isoformat(),
                    "duplicate": sent.duplicate,
                }
            )
        )
        if not sent.duplicate:
            await self._publish(message_frame(stored))

    async def _mark_read(self, frame: MarkRead) -> None:
        async with self._server.database.sessions() as session:
            read_seq = await self._server.messages.mark_read(session, self._chat, self.user_id, frame.seq)
        await self._publish({"type": "read", "chat_id": self.chat_id, "user_id": self.user_id, "seq": read_seq})

    async def _publish(self, data: dict[str, Any]) -> None:
        try:
            await self._server.fanout.publish(self.chat_id, data)
        except Exception:
            # Stored already: other sockets fill the gap from PostgreSQL with the next message or reconnect.
            logger.warning("fan-out publish failed", extra={"chat_id": self.chat_id})
            self.deliver(Frame.of(data))

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
        server = self._server
        async with server.database.sessions() as session:
            missed = await server.messages.after(session, self.chat_id, self.cursor, server.replay_limit + 1, up_to)
            if len(missed) > server.replay_limit:
                last_seq = up_to if up_to is not None else await server.messages.last_seq(session, self.chat_id)
                await self.send_now(
                    {
                        "type": "reload",
                        "chat_id": self.chat_id,
                        "after": self.cursor,
                        "last_seq": last_seq,
                        "detail": f"more than {server.replay_limit} messages missed: page them with "
                        f"GET /chat/chat_messages/{self.chat_id}?after={self.cursor}",
                    }
                )
                self.cursor = last_seq
                return
        for message in missed:
            await self.send_now(message_frame(message))
            self.cursor = message.seq

    def _token_valid(self) -> bool:
        try:
            self._server.verifier.verify(self._token)
        except InvalidToken:
            return False
        return True


def _error(code: str, detail: str, frame: Any = None, extra: dict[str, Any] | None = None) -> Frame:
    data: dict[str, Any] = {"type": "error", "code": code, "detail": detail, **(extra or {})}
    if isinstance(frame, SendMessage) and frame.client_id is not None:
        data["client_id"] = str(frame.client_id)
    return Frame.of(data)


def _chat_id(raw: str) -> int | None:
    """A chat id as PostgreSQL can hold it (1..2**63-1), or None: ASCII digits only, no sign or spaces."""
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 19:
        return None
    value = int(raw)
    return value if 1 <= value <= MAX_ID else None


def _non_negative_int(raw: str | None) -> int | None:
    if raw is None or not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
        return None
    return int(raw)


async def _close(websocket: WebSocket, code: int, reason: str) -> None:
    # The client may be gone already. A client that stopped reading (4008) gets the close frame
    # once it reads again; one that never does is dropped by the server's keepalive ping timeout.
    with contextlib.suppress(Exception):
        await websocket.close(code, reason[:120])
