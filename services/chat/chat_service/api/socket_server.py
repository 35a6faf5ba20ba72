"""Every chat socket of this replica: the handshake, the set of live sockets, the graceful stop.

The handshake accepts first (a browser cannot see why a refused handshake
failed, but it sees close codes), then authenticates (4001) and checks that the
caller takes part in the chat (4003) before any other work. An open socket is
a ``ChatSocket``; when it ends, the close code it chose is sent. Nothing
unexpected escapes: it is logged and closes the socket with 1011.
"""

import asyncio
import contextlib
import logging

from starlette.websockets import WebSocket, WebSocketDisconnect

from chat_service.api.chat_socket import ChatSocket, SocketServices
from chat_service.api.frames import RECONNECT_HINT, CloseCode, chat_id_from_path, closed_frame
from chat_service.domain.errors import ChatNotFound, NotAParticipant
from service_kit.security import InvalidToken, Principal, token_from

logger = logging.getLogger(__name__)


class SocketRefused(Exception):
    def __init__(self, code: CloseCode, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class SocketServer:
    def __init__(self, services: SocketServices) -> None:
        self.services = services
        self._sockets: set[ChatSocket] = set()
        self._idle = asyncio.Event()  # set while no socket is open
        self._idle.set()

    async def serve(self, websocket: WebSocket, raw_chat_id: str) -> None:
        """Serves one connection until it closes; no exception escapes."""
        try:
            await websocket.accept()
            try:
                socket = await self._open(websocket, raw_chat_id)
            except SocketRefused as refusal:
                await close(websocket, refusal.code, refusal.reason)
                return
            self._sockets.add(socket)
            self._idle.clear()
            try:
                await socket.run(websocket.query_params.get("after"))
            finally:
                self._sockets.discard(socket)
                if not self._sockets:
                    self._idle.set()
            if socket.close_code is not None:
                await close(websocket, socket.close_code, socket.close_reason)
        except WebSocketDisconnect:
            return
        except Exception:
            logger.exception("chat socket failed")
            await close(websocket, CloseCode.INTERNAL_ERROR, f"internal error: {RECONNECT_HINT}")

    async def _open(self, websocket: WebSocket, raw_chat_id: str) -> ChatSocket:
        principal, token = await self._authenticate(websocket)
        chat_id = chat_id_from_path(raw_chat_id)
        try:
            if chat_id is None:
                raise ChatNotFound(f"Chat {raw_chat_id[:30]!r} not found")
            async with self.services.database.read_session() as session:
                chat = await self.services.chats.participant_chat(session, chat_id, principal.user_id)
        except (ChatNotFound, NotAParticipant) as error:
            raise SocketRefused(CloseCode.FORBIDDEN, "no such chat, or you are not a participant") from error
        return ChatSocket(websocket, chat, principal.user_id, token, self.services)

    async def _authenticate(self, websocket: WebSocket) -> tuple[Principal, str]:
        """The caller and their token (the bearer header or ``?token=``), or SocketRefused with 4001."""
        try:
            token = token_from(websocket.headers.get("authorization"), websocket.query_params.getlist("token"))
            if not token:
                raise InvalidToken("missing token: connect with ?token=<access token>")
            return await self.services.verifier.verify_fetching_keys(token), token
        except InvalidToken as error:
            raise SocketRefused(CloseCode.INVALID_TOKEN, str(error)) from error

    async def tell_chats_closed(self, chat_ids: list[int], user_id: int) -> None:
        """Tells every replica's sockets of these chats that ``user_id``'s account was deleted."""
        for chat_id in chat_ids:
            try:
                await self.services.channels.publish(chat_id, closed_frame(chat_id, user_id))
            except Exception:
                # Only the live notice is lost: sends are refused by the database either way.
                logger.warning("cannot tell sockets a chat closed", extra={"chat_id": chat_id})

    def live_sockets(self) -> int:
        return len(self._sockets)

    async def shutdown(self, within_seconds: float = 5.0) -> None:
        """Graceful stop: every socket is closed with 1012 so clients reconnect to another replica."""
        for socket in list(self._sockets):
            socket.shut(CloseCode.RESTARTING, f"server restarting: {RECONNECT_HINT}")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), within_seconds)


async def close(websocket: WebSocket, code: int, reason: str) -> None:
    # The client may be gone already. A client that stopped reading (4008) gets the close frame
    # once it reads again; one that never does is dropped by the server's keepalive ping timeout.
    with contextlib.suppress(Exception):
        await websocket.close(code, reason[:120])
