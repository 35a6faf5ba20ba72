"""WS /notifications/ws: every notification and the badge of the user, live (contracts/notifications-websocket.md)."""

from fastapi import APIRouter, WebSocket

from notifications_service.container import NotificationsContainer

router = APIRouter()


@router.websocket("/notifications/ws")
async def notifications_socket(websocket: WebSocket) -> None:
    """Authenticated after accept, with ?token=; closes 4001, 4008, 4029, 1011 or 1012."""
    container: NotificationsContainer = websocket.app.state.container
    await container.sockets.serve(websocket)
