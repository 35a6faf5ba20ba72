"""Every notifications socket of this replica: the handshake, the set of live sockets, the graceful stop.

The handshake accepts first (a browser cannot see why a refused handshake
failed, but it sees close codes), then authenticates (4001) before any other
work. Nothing unexpected escapes: it is logged and closes the socket with 1011.
"""

import asyncio
import contextlib
import logging

from starlette.websockets import WebSocket, WebSocketDisconnect

from notifications_service.api.frames import RECONNECT_HINT, CloseCode
from notifications_service.api.user_socket import SocketServices, UserSocket
from service_kit.security import InvalidToken, token_from

logger = logging.getLogger(__name__)


class SocketServer:
    def __init__(self, services: SocketServices) -> None:
        self.services = services
        self._sockets: set[UserSocket] = set()
        self._idle = asyncio.Event()  # set while no socket is open
        self._idle.set()

    async def serve(self, websocket: WebSocket) -> None:
        """Serves one connection until it closes; no exception escapes."""
        try:
            await websocket.accept()
            try:
                token = token_from(websocket.headers.get("authorization"), websocket.query_params.getlist("token"))
                if not token:
                    raise InvalidToken("missing token: connect with ?token=<access token>")
                principal = await self.services.verifier.verify_fetching_keys(token)
            except InvalidToken as error:
                await close(websocket, CloseCode.INVALID_TOKEN, str(error))
                return
            socket = UserSocket(websocket, principal.user_id, token, self.services)
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
            logger.exception("notifications socket failed")
            await close(websocket, CloseCode.INTERNAL_ERROR, f"internal error: {RECONNECT_HINT}")

    def live_sockets(self) -> int:
        return len(self._sockets)

    async def shutdown(self, within_seconds: float = 5.0) -> None:
        """Graceful stop: every socket is closed with 1012 so clients reconnect to another replica."""
        for socket in list(self._sockets):
            socket.shut(CloseCode.RESTARTING, f"server restarting: {RECONNECT_HINT}")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), within_seconds)


async def close(websocket: WebSocket, code: int, reason: str) -> None:
    with contextlib.suppress(Exception):
        await websocket.close(code, reason[:120])
