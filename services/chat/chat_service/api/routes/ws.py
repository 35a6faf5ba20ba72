"""Seed endpoint 16: the chat WebSocket (frames: contracts/chat-websocket.md)."""

from fastapi import APIRouter, WebSocket

from chat_service.container import ChatContainer

router = APIRouter()


@router.websocket("/chat/ws/{chat_id}")
async def chat_socket(websocket: WebSocket, chat_id: str) -> None:
    """Authenticated after accept, with ?token=; closes 4001, 4003, 4008, 4029 or 1012."""
    container: ChatContainer = websocket.app.state.container
    await container.sockets.serve(websocket, chat_id)
