"""The common app shape: trailing slashes, request ids, health and readiness."""

import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from fastapi import FastAPI, Request
from starlette.types import Message, Receive, Scope, Send

from service_kit.app import ReadinessCheck, create_service_app
from service_kit.logging import request_id_var
from service_kit.middleware import ServiceMiddleware

SERVICE = "kit-test"


@asynccontextmanager
async def no_lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield


async def healthy() -> None:
    return None


async def broken() -> None:
    raise ConnectionRefusedError("broker down")


def make_app(checks: dict[str, ReadinessCheck]) -> FastAPI:
    app = create_service_app(
        service=SERVICE, title="Kit test", version="0", lifespan=no_lifespan, readiness=lambda _app: checks
    )

    @app.get("/x")
    async def x(request: Request) -> dict[str, str | None]:
        return {"path": request.url.path, "q": request.query_params.get("q"), "request_id": request_id_var.get()}

    @app.get("/items/{item_id}")
    async def item(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("a bug")

    @app.post("/echo")
    async def echo(body: dict[str, int]) -> dict[str, int]:
        return body

    return app


@pytest.fixture
def checks() -> dict[str, ReadinessCheck]:
    return {}


@pytest.fixture
async def client(checks: dict[str, ReadinessCheck]) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=make_app(checks))
    async with httpx.AsyncClient(transport=transport, base_url="http://svc", follow_redirects=False) as http:
        yield http


@pytest.mark.parametrize("path", ["/x/", "/x//", "/x/?q=1"])
async def test_trailing_slash_serves_like_without(client: httpx.AsyncClient, path: str) -> None:
    plain = await client.get("/x?q=1" if "q=" in path else "/x")
    slashed = await client.get(path)
    assert slashed.status_code == 200, "served, not redirected"
    assert "location" not in slashed.headers
    assert {**slashed.json(), "request_id": None} == {**plain.json(), "request_id": None}
    assert slashed.json()["path"] == "/x"


async def test_trailing_slash_keeps_path_parameters_and_404s(client: httpx.AsyncClient) -> None:
    assert (await client.get("/items/7/")).json() == {"id": 7}
    assert (await client.get("/health/")).status_code == 200
    assert (await client.get("/nope/")).status_code == 404
    assert (await client.get("/")).status_code == 404


@pytest.mark.parametrize("incoming", ["gw-0123456789abcdef", "a1b2c3d4", "trace:01.02_03-04", "x" * 128])
async def test_safe_request_id_is_kept_and_echoed(client: httpx.AsyncClient, incoming: str) -> None:
    response = await client.get("/x", headers={"X-Request-Id": incoming})
    assert response.headers["x-request-id"] == incoming
    assert response.json()["request_id"] == incoming, "handlers and logs see the same id"


@pytest.mark.parametrize("incoming", ["short", "has spaces in it", "x" * 129, 'evil"}{injected', "id;rm -rf /", ""])
async def test_unsafe_request_id_is_replaced(client: httpx.AsyncClient, incoming: str) -> None:
    response = await client.get("/x", headers={"X-Request-Id": incoming})
    echoed = response.headers["x-request-id"]
    assert echoed != incoming
    assert re.fullmatch(r"[0-9a-f]{32}", echoed)
    assert response.json()["request_id"] == echoed


async def test_missing_request_id_is_generated_fresh_each_time(client: httpx.AsyncClient) -> None:
    first = (await client.get("/x")).headers["x-request-id"]
    second = (await client.get("/x")).headers["x-request-id"]
    assert first != second
    assert uuid.UUID(hex=first)
    assert request_id_var.get() is None, "the id does not leak out of the request"


async def test_request_id_with_a_trailing_newline_is_replaced() -> None:
    """Below HTTP parsing (any ASGI server): a regex "$" also matches before a final newline."""
    sent: list[Message] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    async def send(message: Message) -> None:
        sent.append(message)

    scope: Scope = {"type": "http", "method": "GET", "path": "/", "headers": [(b"x-request-id", b"abcdefgh\n")]}
    await ServiceMiddleware(app, SERVICE)(scope, receive, send)
    echoed = dict(sent[0]["headers"])[b"x-request-id"]
    assert b"\n" not in echoed
    assert re.fullmatch(rb"[0-9a-f]{32}", echoed)


async def test_health_is_always_ok(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_ready_with_no_checks_is_ok(client: httpx.AsyncClient) -> None:
    response = await client.get("/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {}}


async def test_ready_is_503_when_a_check_raises(client: httpx.AsyncClient, checks: dict[str, ReadinessCheck]) -> None:
    checks["database"] = healthy
    assert (await client.get("/ready")).status_code == 200
    checks["broker"] = broken
    response = await client.get("/ready")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": "ok", "broker": "down: ConnectionRefusedError"},
    }
    assert "broker down" not in response.text, "error details stay in the logs"


async def test_metrics_use_route_templates(client: httpx.AsyncClient) -> None:
    await client.get("/items/424242/")
    metrics = (await client.get("/metrics")).text
    assert re.search(
        r'http_requests_total\{[^}]*route="/items/\{item_id\}"[^}]*service="kit-test"', metrics
    ) or re.search(r'http_requests_total\{[^}]*service="kit-test"[^}]*route="/items/\{item_id\}"', metrics)
    assert "424242" not in metrics


async def test_a_bug_answers_json_500_without_raising_out_of_the_app(client: httpx.AsyncClient) -> None:
    # httpx's ASGI transport re-raises what escapes the app, as a server would drop the connection.
    response = await client.get("/boom")
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal server error", "code": "internal_error"}
    assert (await client.get("/x")).status_code == 200


async def test_validation_errors_echoing_a_lone_surrogate_are_still_json(client: httpx.AsyncClient) -> None:
    # JSON may escape a lone surrogate; Python decodes it, but UTF-8 cannot encode it back.
    response = await client.post("/echo", content=rb'{"a": "\ud800"}', headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "a"]


async def test_the_gateways_trace_id_is_the_request_id(client: httpx.AsyncClient) -> None:
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    traceparent = {"traceparent": f"00-{trace_id}-00f067aa0ba902b7-00"}
    response = await client.get("/x", headers=traceparent)
    assert response.json()["request_id"] == trace_id
    assert response.headers["x-request-id"] == trace_id
    # A client's own safe id still wins, for its own correlation.
    own = await client.get("/x", headers=traceparent | {"X-Request-Id": "mobile-app-1234"})
    assert own.json()["request_id"] == "mobile-app-1234"
    malformed = await client.get("/x", headers={"traceparent": f"00-{'0' * 32}-00f067aa0ba902b7-00"})
    assert malformed.json()["request_id"] != "0" * 32
