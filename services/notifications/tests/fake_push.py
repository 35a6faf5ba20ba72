"""Local stand-ins for FCM (with Google's OAuth token endpoint) and RuStore that check what they are sent.

Like the SMS.ru fake of the auth tests: a real HTTP server on a free port. The
FCM one verifies the service account's JWT assertion with its public key and
accepts only the access tokens it issued; the RuStore one only the service
token. Both record every push. A device token's prefix scripts the answer:
``dead-`` is unregistered, ``bad-`` an invalid token (FCM), ``busy-`` a 503 with
Retry-After.
"""

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

FCM_PROJECT = "marketplace-test"
RUSTORE_PROJECT = "rustore-test"
RUSTORE_TOKEN = "rustore-service-token-1"
CLIENT_EMAIL = "push@marketplace-test.iam.gserviceaccount.com"
SCOPE = "https://www.googleapis.com/auth/firebase.messaging"


@dataclass
class Push:
    provider: str
    token: str
    message: dict[str, Any]


@dataclass
class FakePush:
    """What both fakes saw; ``url`` is where they answer."""

    url: str
    private_key_pem: str
    public_key: Any
    pushes: list[Push] = field(default_factory=list)
    token_requests: int = 0
    issued: set[str] = field(default_factory=set)
    refused: list[str] = field(default_factory=list)  # why a request was refused (bad auth, bad payload)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        with self.lock:
            self.pushes.clear()
            self.refused.clear()
            self.token_requests = 0

    def to(self, token: str, kind: str | None = None) -> list[Push]:
        """Pushes to this device token (of this kind of notification, if given)."""
        with self.lock:
            return [
                push
                for push in self.pushes
                if push.token == token and (kind is None or push.message["data"].get("kind") == kind)
            ]

    def credentials(self, directory: Path) -> Path:
        """A service account JSON key whose token URI is this fake."""
        path = directory / "fcm-service-account.json"
        path.write_text(
            json.dumps(
                {
                    "type": "service_account",
                    "project_id": FCM_PROJECT,
                    "private_key_id": "key-1",
                    "private_key": self.private_key_pem,
                    "client_email": CLIENT_EMAIL,
                    "token_uri": f"{self.url}/token",
                }
            )
        )
        return path


def _handler(fake: FakePush) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if self.path == "/token":
                self._token(body)
            elif self.path == f"/v1/projects/{FCM_PROJECT}/messages:send":
                self._send("fcm", body, lambda header: header.removeprefix("Bearer ") in fake.issued)
            elif self.path == f"/v1/projects/{RUSTORE_PROJECT}/messages:send":
                self._send("rustore", body, lambda header: header == f"Bearer {RUSTORE_TOKEN}")
            else:
                self._answer(404, {"error": {"code": 404, "message": f"no route {self.path}", "status": "NOT_FOUND"}})

        def _token(self, body: bytes) -> None:
            form = parse_qs(body.decode())
            try:
                assert form["grant_type"] == ["urn:ietf:params:oauth:grant-type:jwt-bearer"]
                claims = jwt.decode(
                    form["assertion"][0],
                    fake.public_key,
                    algorithms=["RS256"],
                    audience=f"{fake.url}/token",
                    options={"require": ["exp", "iat", "iss", "aud"]},
                )
                assert claims["iss"] == CLIENT_EMAIL and claims["scope"] == SCOPE
                assert jwt.get_unverified_header(form["assertion"][0])["kid"] == "key-1"
            except (AssertionError, KeyError, jwt.PyJWTError) as error:
                fake.refused.append(f"token: {error!r}")
                self._answer(400, {"error": "invalid_grant"})
                return
            with fake.lock:
                fake.token_requests += 1
                access = f"ya29.fake-{fake.token_requests}"
                fake.issued.add(access)
            self._answer(200, {"access_token": access, "expires_in": 3599, "token_type": "Bearer"})

        def _send(self, provider: str, body: bytes, authorized: Any) -> None:
            if not authorized(self.headers.get("Authorization", "")):
                fake.refused.append(f"{provider}: bad Authorization header")
                self._answer(401, {"error": {"code": 401, "message": "unauthenticated", "status": "UNAUTHENTICATED"}})
                return
            message = json.loads(body)["message"]
            problems = _payload_problems(provider, message)
            if problems:
                fake.refused.append(f"{provider}: {problems}")
                self._answer(400, {"error": {"code": 400, "message": problems, "status": "INVALID_ARGUMENT"}})
                return
            token = message["token"]
            if token.startswith("dead-"):
                error = {"code": 404, "message": "Requested entity was not found.", "status": "NOT_FOUND"}
                details = [
                    {"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": "UNREGISTERED"}
                ]
                self._answer(404, {"error": error | ({"details": details} if provider == "fcm" else {})})
                return
            if token.startswith("bad-") and provider == "fcm":
                details = [
                    {"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": "INVALID_ARGUMENT"}
                ]
                message_text = "The registration token is not a valid FCM registration token"
                self._answer(
                    400,
                    {"error": {"code": 400, "message": message_text, "status": "INVALID_ARGUMENT", "details": details}},
                )
                return
            if token.startswith("busy-"):
                self._answer(503, {"error": {"code": 503, "message": "try later", "status": "UNAVAILABLE"}}, retry=120)
                return
            with fake.lock:
                fake.pushes.append(Push(provider, token, message))
            self._answer(200, {"name": f"projects/p/messages/{len(fake.pushes)}"})

        def _answer(self, status: int, body: dict[str, Any], retry: int | None = None) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            if retry is not None:
                self.send_header("Retry-After", str(retry))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_: Any) -> None:
            pass

    return Handler


def _payload_problems(provider: str, message: dict[str, Any]) -> str:
    """What the real APIs would refuse: missing parts, non-string data values."""
    if not isinstance(message.get("token"), str) or not message["token"]:
        return "message.token missing"
    notification = message.get("notification") or {}
    if not notification.get("title") or not notification.get("body"):
        return "message.notification needs title and body"
    if not all(isinstance(value, str) for value in (message.get("data") or {}).values()):
        return "message.data values must be strings"
    android = message.get("android") or {}
    if not str(android.get("ttl", "")).endswith("s"):
        return "message.android.ttl must be a duration"
    if provider == "fcm" and not android.get("collapse_key"):
        return "message.android.collapse_key missing"
    return ""


def start_fake_push() -> Iterator[FakePush]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    fake = FakePush(f"http://127.0.0.1:{server.server_port}", pem, key.public_key())
    server.RequestHandlerClass = _handler(fake)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
