"""The gateway's forward-auth verifier: ``uvicorn auth_service.verifier:create_verifier_app --factory``.

Traefik asks it about every protected request, so it is a bare ASGI app (no
framework routing or validation on the hot path) that never touches the
database per request: verified tokens are cached until they expire and the
revocation list lives in memory, rebuilt from PostgreSQL at start and kept
current by Redis pub/sub and by ``user.deleted`` events.

GET|POST|... /verify           token required: 200 with X-User-Id and X-User-Role, else 401
GET|POST|... /verify/optional  no token: 200 without identity; a bad token: 401

A 401 is JSON ``{"detail", "code"}`` and reaches the client as it is (forwardAuth
copies it): ``code`` is ``unauthorized`` when no token was sent and
``token_invalid`` when the token is malformed, expired, forged or revoked.
"""

import asyncio
import contextlib
import json
import logging
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

from redis.asyncio import Redis
from sqlalchemy import select
from starlette.types import Receive, Scope, Send

from auth_service.domain.tokens import load_public_key
from auth_service.events.handlers import revocation_handlers
from auth_service.models import RevokedUser
from auth_service.settings import VerifierSettings, get_verifier_settings
from service_kit.db import Database
from service_kit.events.consumer import BroadcastSubscriber
from service_kit.events.topology import Topology
from service_kit.logging import configure_logging
from service_kit.security import (
    InvalidToken,
    KeySet,
    RevocationFeed,
    RevocationList,
    TokenVerifier,
    bearer_token,
    public_jwk,
    token_from,
)
from service_kit.tasks import cancel_and_wait

logger = logging.getLogger(__name__)

# Only sockets may carry their token in the query (browsers cannot set headers there): chat's and notifications'.
QUERY_TOKEN_PATHS = re.compile(r"^(/chat/ws/[^/]+|/notifications/ws)/?$")
_JSON = (b"content-type", b"application/json")


def _token_from_request(headers: dict[bytes, bytes]) -> str | None:
    authorization = headers.get(b"authorization", b"").decode("latin-1")
    parts = urlsplit(headers.get(b"x-forwarded-uri", b"").decode("latin-1"))
    if not QUERY_TOKEN_PATHS.fullmatch(parts.path):
        return bearer_token(authorization)
    return token_from(authorization, parse_qs(parts.query).get("token", []))


class VerifierApp:
    def __init__(self, settings: VerifierSettings) -> None:
        self.settings = settings
        public_keys = [settings.jwt_public_key_path, *settings.jwt_previous_public_key_paths]
        self.revocations = RevocationList()
        self.verifier = TokenVerifier(
            KeySet({"keys": [public_jwk(load_public_key(path)) for path in public_keys]}), self.revocations
        )
        self._redis = Redis.from_url(settings.redis_url)
        self._feed = RevocationFeed(self._redis, settings.namespace, self.revocations)
        self._events = BroadcastSubscriber(
            settings.rabbitmq_url, Topology(settings.namespace), revocation_handlers(self.revocations)
        )
        self._tasks: list[asyncio.Task[Any]] = []
        self._loaded = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path: str = scope["path"].rstrip("/")
        if path in ("/verify", "/verify/optional"):
            await self._verify(scope, send, optional=path.endswith("optional"))
        elif path == "/health":
            await self._respond(send, 200, {"status": "ok"})
        elif path == "/ready":
            ready = self._loaded and self._feed.listening
            await self._respond(send, 200 if ready else 503, {"status": "ok" if ready else "unavailable"})
        else:
            await self._respond(send, 404, {"detail": "Not found", "code": "not_found"})

    async def _verify(self, scope: Scope, send: Send, *, optional: bool) -> None:
        headers = dict(scope["headers"])
        try:
            token = _token_from_request(headers)
        except InvalidToken as error:
            await self._unauthorized(send, f"Invalid credentials: {error}", "token_invalid")
            return
        if token is None:
            if optional:
                await self._respond(send, 200, None)
            else:
                await self._unauthorized(
                    send, "Not authenticated: send 'Authorization: Bearer <token>'", "unauthorized"
                )
            return
        try:
            principal = self.verifier.verify(token)
        except InvalidToken as error:
            await self._unauthorized(send, f"Invalid credentials: {error}", "token_invalid")
            return
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"x-user-id", str(principal.user_id).encode()), (b"x-user-role", principal.role.encode())],
            }
        )
        await send({"type": "http.response.body", "body": b""})

    async def _unauthorized(self, send: Send, detail: str, code: str) -> None:
        await self._respond(send, 401, {"detail": detail, "code": code}, [(b"www-authenticate", b"Bearer")])

    @staticmethod
    async def _respond(
        send: Send, status: int, body: dict[str, str] | None, extra: list[tuple[bytes, bytes]] | None = None
    ) -> None:
        payload = json.dumps(body).encode() if body is not None else b""
        headers = [_JSON] if body is not None else []
        await send({"type": "http.response.start", "status": status, "headers": headers + (extra or [])})
        await send({"type": "http.response.body", "body": payload})

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self._start()
                except Exception as error:
                    logger.exception("verifier failed to start")
                    await send({"type": "lifespan.startup.failed", "message": str(error)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self._stop()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _start(self) -> None:
        database = Database(self.settings.database_url, pool_size=1)
        try:
            async with database.sessions() as session:
                self.revocations.add(*(await session.scalars(select(RevokedUser.user_id))))
        finally:
            await database.dispose()
        self._loaded = True
        self._tasks = [
            asyncio.create_task(self._feed.follow(), name="revocation-feed"),
            asyncio.create_task(self._follow_events(), name="revocation-events"),
        ]

    async def _follow_events(self) -> None:
        while True:
            try:
                await self._events.start()
                return
            except Exception:
                logger.warning("verifier cannot subscribe to user.deleted yet; retrying")
                await self._events.stop()
                await asyncio.sleep(2)

    async def _stop(self) -> None:
        await cancel_and_wait(self._tasks)
        with contextlib.suppress(Exception):
            await self._events.stop()
        await self._redis.aclose()


def create_verifier_app(settings: VerifierSettings | None = None) -> VerifierApp:
    settings = settings or get_verifier_settings()
    configure_logging("auth-verifier", settings.log_level, settings.log_json)
    return VerifierApp(settings)
