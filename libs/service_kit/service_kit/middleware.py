"""Pure ASGI middleware every service runs: request ids, trailing slashes, metrics."""

import logging
import re
import time
import uuid

from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service_kit.logging import request_id_var

logger = logging.getLogger(__name__)

REQUEST_ID_HEADER = b"x-request-id"
# A client-chosen id is kept only if it cannot smuggle anything into logs.
_SAFE_REQUEST_ID = re.compile(rb"^[A-Za-z0-9._:-]{8,128}$")
# W3C trace context the gateway starts: version-traceid-parentid-flags.
_TRACEPARENT = re.compile(rb"^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$")


def request_id_from(headers: dict[bytes, bytes]) -> str:
    """The client's X-Request-Id if safe, else the gateway's trace id, else a new id."""
    incoming = headers.get(REQUEST_ID_HEADER, b"")
    if _SAFE_REQUEST_ID.fullmatch(incoming):
        return incoming.decode()
    trace = _TRACEPARENT.fullmatch(headers.get(b"traceparent", b""))
    if trace is not None and trace.group(1) != b"0" * 32:
        return trace.group(1).decode()
    return uuid.uuid4().hex


HTTP_REQUESTS = Counter("http_requests_total", "HTTP requests handled", ["service", "method", "route", "status"])
HTTP_LATENCY = Histogram("http_request_duration_seconds", "HTTP request latency", ["service", "method", "route"])


class RequestIdMiddleware:
    """Takes the request id the gateway passes in (or makes one), logs with it, and echoes it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(dict(scope["headers"]))
        token = request_id_var.set(request_id)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (REQUEST_ID_HEADER, request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id_var.reset(token)


class TrailingSlashMiddleware:
    """Serves ``/users/me/`` exactly like ``/users/me``: the seed uses both, no redirects."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] in ("http", "websocket") and len(path) > 1 and path.endswith("/"):
            scope = {**scope, "path": path.rstrip("/") or "/"}
            if scope.get("raw_path"):
                scope["raw_path"] = scope["raw_path"].rstrip(b"/") or b"/"
        await self.app(scope, receive, send)


class MetricsMiddleware:
    """Counts and times requests by route template (never by raw path: ids would explode it)."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status_code = 500

        async def send_capturing_status(message: Message) -> None:
            nonlocal status_code
            if message["type"] == "http.response.start":
                status_code = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_capturing_status)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", "unmatched")
            HTTP_REQUESTS.labels(self.service, scope["method"], template, str(status_code)).inc()
            HTTP_LATENCY.labels(self.service, scope["method"], template).observe(time.perf_counter() - started)


_INTERNAL_ERROR = b'{"detail":"Internal server error","code":"internal_error"}'


class UnhandledErrorMiddleware:
    """Answers an unexpected error with a JSON 500 and keeps the connection usable.

    Starlette's own handler re-raises after answering, which makes the server
    drop the keep-alive connection; the gateway would then fail the next,
    unrelated request it sends on that pooled connection.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_tracking_start(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, send_tracking_start)
        except Exception:
            logger.exception("unhandled error", extra={"path": scope.get("path")})
            if started:
                raise  # half a response went out: only closing the connection is honest
            await send(
                {
                    "type": "http.response.start",
                    "status": 500,
                    "headers": [(b"content-type", b"application/json")],
                }
            )
            await send(
                {"type": "http.response.body", "body": b'{"detail":"Internal server error","code":"internal_error"}'}
            )
