"""The one pure ASGI middleware every service runs: trailing slashes, request ids, metrics, 500s.

One layer instead of four: each layer of ASGI middleware costs a coroutine, a
wrapped ``send`` and a scope copy per request, which showed up in the profile of
a single-row read (docs/performance.md).
"""

import logging
import re
import time
import uuid
from collections.abc import Iterable

from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service_kit.logging import request_id_var

logger = logging.getLogger(__name__)

REQUEST_ID_HEADER = b"x-request-id"
# A client-chosen id is kept only if it cannot smuggle anything into logs.
_SAFE_REQUEST_ID = re.compile(rb"[A-Za-z0-9._:-]{8,128}")
# W3C trace context the gateway starts: version-traceid-parentid-flags.
_TRACEPARENT = re.compile(rb"[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}")
_NO_TRACE = b"0" * 32

HTTP_REQUESTS = Counter("http_requests_total", "HTTP requests handled", ["service", "method", "route", "status"])
HTTP_LATENCY = Histogram("http_request_duration_seconds", "HTTP request latency", ["service", "method", "route"])

_INTERNAL_ERROR = b'{"detail":"Internal server error","code":"internal_error"}'


def request_id_from(headers: Iterable[tuple[bytes, bytes]]) -> str:
    """The client's X-Request-Id if safe, else the gateway's trace id, else a new id."""
    incoming = traceparent = b""
    for name, value in headers:
        if name == REQUEST_ID_HEADER:
            incoming = value
        elif name == b"traceparent":
            traceparent = value
    if _SAFE_REQUEST_ID.fullmatch(incoming):
        return incoming.decode()
    trace = _TRACEPARENT.fullmatch(traceparent)
    if trace is not None and trace.group(1) != _NO_TRACE:
        return trace.group(1).decode()
    return uuid.uuid4().hex


class ServiceMiddleware:
    """Serves ``/users/me/`` exactly like ``/users/me`` (the seed uses both, no redirects); takes
    the request id the gateway passes in (or makes one), logs with it and echoes it; counts and
    times requests by route template (never by raw path: ids would explode the label set); and
    answers an unexpected error with a JSON 500 while keeping the connection usable (Starlette's
    own handler re-raises after answering, which drops a keep-alive connection the gateway would
    then fail the next, unrelated request on).
    """

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service
        # Label lookups take a lock and build tuples: done once per (method, route, status).
        self._counters: dict[tuple[str, str, int], Counter] = {}
        self._timers: dict[tuple[str, str], Histogram] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind != "http" and kind != "websocket":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if len(path) > 1 and path.endswith("/"):
            scope = {**scope, "path": path.rstrip("/") or "/"}
            if scope.get("raw_path"):
                scope["raw_path"] = scope["raw_path"].rstrip(b"/") or b"/"
        request_id = request_id_from(scope["headers"])
        token = request_id_var.set(request_id)
        try:
            if kind == "http":
                await self._http(scope, receive, send, request_id.encode())
            else:
                await self.app(scope, receive, send)
        finally:
            request_id_var.reset(token)

    async def _http(self, scope: Scope, receive: Receive, send: Send, request_id: bytes) -> None:
        started = time.perf_counter()
        status = 0

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), (REQUEST_ID_HEADER, request_id)]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            logger.exception("unhandled error", extra={"path": scope.get("path")})
            if status:
                raise  # half a response went out: only closing the connection is honest
            status = 500
            headers = [(b"content-type", b"application/json"), (REQUEST_ID_HEADER, request_id)]
            await send({"type": "http.response.start", "status": 500, "headers": headers})
            await send({"type": "http.response.body", "body": _INTERNAL_ERROR})
        finally:
            self._observe(scope, status or 500, time.perf_counter() - started)

    def _observe(self, scope: Scope, status: int, seconds: float) -> None:
        method: str = scope["method"]
        template: str = getattr(scope.get("route"), "path", "unmatched")
        counter = self._counters.get((method, template, status))
        if counter is None:
            counter = HTTP_REQUESTS.labels(self.service, method, template, str(status))
            self._counters[(method, template, status)] = counter
        timer = self._timers.get((method, template))
        if timer is None:
            timer = self._timers[(method, template)] = HTTP_LATENCY.labels(self.service, method, template)
        counter.inc()
        timer.observe(seconds)
