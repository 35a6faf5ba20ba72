"""The gateway's own pages: ``uvicorn gateway_pages.app:create_app --factory``.

A bare ASGI app (no framework routing on a path every refusal may take):

GET /errors/{status}[/{number}]  the JSON body of a refusal Traefik itself makes (its errors
                                 middleware asks here and keeps the status); the number is the
                                 Retry-After seconds of a 429, the byte limit of a 413
GET /openapi.json                every service's contract merged into one document
GET /docs                        Swagger UI for that document
GET /health, /ready              probes (not routed publicly)

Anything else is a 404 in the same JSON shape. The public catch-all router
rewrites every unknown path to /errors/404, so only /docs and /openapi.json
are reachable from outside as they are.
"""

import json
import os
import re
from http import HTTPStatus
from pathlib import Path
from typing import Any

from fastapi.openapi.docs import get_swagger_ui_html
from starlette.types import Receive, Scope, Send

from gateway_pages.openapi import load_documents, merge, unresolved_refs
from service_kit.errors import error_code
from service_kit.middleware import request_id_from

CONTRACTS_DIR = Path(__file__).resolve().parents[3] / "contracts" / "openapi"
TITLE = "Marketplace API"
VERSION = "1.0.0"

DETAILS = {
    404: "Not Found",
    413: "Request body is too large for this route",
    429: "Too many requests; retry after {retry_after} s",
    502: "The service behind the gateway did not answer; try again shortly",
    503: "The service is temporarily unavailable; try again shortly",
    504: "The service behind the gateway did not answer in time; try again shortly",
}
_ERROR_PATH = re.compile(r"^/errors/([1-5][0-9][0-9])(?:/([0-9]{1,12}))?/?$")
_JSON = (b"content-type", b"application/json")
_NO_STORE = (b"cache-control", b"no-store")


def error_page(status: int, number: int | None = None) -> tuple[dict[str, str], list[tuple[bytes, bytes]]]:
    """Body and extra headers of the gateway's answer with this status."""
    headers: list[tuple[bytes, bytes]] = []
    detail = DETAILS.get(status)
    if detail is None:
        try:
            detail = HTTPStatus(status).phrase
        except ValueError:
            detail = "Error"
    if status == 429:
        retry_after = number or 1
        headers.append((b"retry-after", str(retry_after).encode()))
        detail = detail.format(retry_after=retry_after)
    if status == 413 and number:
        detail = f"Request body is larger than this route accepts ({_size(number)})"
    return {"detail": detail, "code": error_code(status)}, headers


def _size(count: int) -> str:
    mib = 1024 * 1024
    return f"{count // mib} MiB" if count % mib == 0 else f"{count} bytes"


class GatewayPages:
    def __init__(self, contracts_dir: Path) -> None:
        merged = merge(load_documents(contracts_dir), title=TITLE, version=VERSION)
        missing = unresolved_refs(merged)
        if missing:
            raise ValueError(f"merged OpenAPI document has unresolved $refs: {sorted(set(missing))}")
        self.openapi = json.dumps(merged, ensure_ascii=False, separators=(",", ":")).encode()
        self.docs = bytes(get_swagger_ui_html(openapi_url="/openapi.json", title=f"{TITLE} - docs").body)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await receive()  # lifespan.startup: the document was merged in create_app
            await send({"type": "lifespan.startup.complete"})
            await receive()  # lifespan.shutdown
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["type"] != "http":
            return
        request_id = request_id_from(scope["headers"])
        path: str = scope["path"]
        reading = scope["method"] in ("GET", "HEAD")
        match = _ERROR_PATH.fullmatch(path)
        if match is not None:
            # Traefik's errors middleware always asks with GET and keeps the refused status itself.
            status, number = int(match.group(1)), match.group(2)
            body, extra = error_page(status, int(number) if number else None)
            await _respond(send, status, _json(body), [_JSON, _NO_STORE, *extra], request_id)
        elif reading and path.rstrip("/") == "/openapi.json":
            await _respond(send, 200, self.openapi, [_JSON], request_id)
        elif reading and path.rstrip("/") == "/docs":
            await _respond(send, 200, self.docs, [(b"content-type", b"text/html; charset=utf-8")], request_id)
        elif reading and path in ("/health", "/ready"):
            await _respond(send, 200, _json({"status": "ok"}), [_JSON], request_id)
        else:
            body, extra = error_page(404)
            await _respond(send, 404, _json(body), [_JSON, *extra], request_id)


def _json(body: dict[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


async def _respond(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]], request_id: str) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [*headers, (b"content-length", str(len(body)).encode()), (b"x-request-id", request_id.encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


def create_app(contracts_dir: Path | None = None) -> GatewayPages:
    """Merges the contracts once, at start: a broken merge stops the process instead of serving it."""
    return GatewayPages(contracts_dir or Path(os.environ.get("CONTRACTS_DIR", "") or CONTRACTS_DIR))
