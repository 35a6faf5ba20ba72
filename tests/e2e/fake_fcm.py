"""A local FCM (and Google OAuth token endpoint) for the e2e stack: it records every push it accepts.

The notifications service's own tests check payloads and auth in detail
(services/notifications/tests/fake_push.py); here it only has to be FCM enough
for the real stack, and to say which pushes reached which device token.
"""

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

PROJECT = "marketplace-e2e"
ACCESS_TOKEN = "ya29.e2e-access-token"


@dataclass
class FakeFcm:
    url: str
    credentials: Path
    pushes: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def settings(self) -> dict[str, str]:
        """The stack's environment for pushes through this fake."""
        return {
            "PUSH_PROVIDERS": '["fcm"]',
            "FCM_CREDENTIALS_PATH": str(self.credentials),
            "FCM_BASE_URL": self.url,
        }

    def to(self, token: str, kind: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            return [
                push
                for push in self.pushes
                if push["token"] == token and (kind is None or push["data"].get("kind") == kind)
            ]


def fake_fcm_server(directory: Path) -> Iterator[FakeFcm]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    url = f"http://127.0.0.1:{server.server_port}"
    credentials = directory / "service-account.json"
    credentials.write_text(
        json.dumps(
            {
                "project_id": PROJECT,
                "client_email": f"push@{PROJECT}.iam.gserviceaccount.com",
                "private_key_id": "e2e",
                "private_key": pem.decode(),
                "token_uri": f"{url}/token",
            }
        )
    )
    fake = FakeFcm(url, credentials)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if self.path == "/token":
                self._answer(200, {"access_token": ACCESS_TOKEN, "expires_in": 3600, "token_type": "Bearer"})
            elif self.path != f"/v1/projects/{PROJECT}/messages:send":
                self._answer(404, {"error": {"code": 404, "status": "NOT_FOUND", "message": self.path}})
            elif self.headers.get("Authorization") != f"Bearer {ACCESS_TOKEN}":
                self._answer(401, {"error": {"code": 401, "status": "UNAUTHENTICATED", "message": "no token"}})
            else:
                with fake.lock:
                    fake.pushes.append(json.loads(body)["message"])
                self._answer(200, {"name": f"projects/{PROJECT}/messages/{len(fake.pushes)}"})

        def _answer(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_: Any) -> None:
            pass

    server.RequestHandlerClass = Handler
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
