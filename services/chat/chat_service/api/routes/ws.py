"""Seed endpoint 16: the chat WebSocket (frames: contracts/chat-websocket.md).

The protocol lives beside this route: ``api/socket_server.py`` (handshake, live
sockets, shutdown), ``api/chat_socket.py`` (one open socket), ``api/frames.py``
(what travels over it).
"""

from fastapi import APIRouter, WebSocket

from chat_service.container import ChatContainer

router = APIRouter()


@router.websocket("/chat/ws/{chat_id}")
async def chat_socket(websocket: WebSocket, chat_id: str) -> None:
    """Authenticated after accept, with ?token=; closes 4001, 4003, 4008, 4029, 1011 or 1012."""
    container: ChatContainer = websocket.app.state.container
    await container.sockets.serve(websocket, chat_id)
