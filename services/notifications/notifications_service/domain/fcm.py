"""Firebase Cloud Messaging, HTTP v1 API, over httpx.

Authentication is OAuth 2.0 with the project's service account: a JWT signed with
its private key (RS256) is exchanged at the account's token URI for an access
token, cached until shortly before it expires. Each push is one
``POST /v1/projects/{project}/messages:send``. Error handling follows FCM's
error codes: ``UNREGISTERED`` (404) and an invalid token (400 ``INVALID_ARGUMENT``
without field violations) or a token of another project (403
``SENDER_ID_MISMATCH``) remove the device; 401 refreshes the access token and
retries; 429 and 5xx are retried later, honouring Retry-After.
"""

import asyncio
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jwt

from notifications_service.domain.push import Outcome, PushMessage, PushResult, retry_after_seconds

SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
_JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"


class InvalidCredentials(ValueError):
    """The service account file is not a Google service account JSON key."""


@dataclass(frozen=True)
class ServiceAccount:
    project_id: str
    client_email: str
    private_key: str
    private_key_id: str
    token_uri: str

    @classmethod
    def from_file(cls, path: Path) -> "ServiceAccount":
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            return cls(
                project_id=raw["project_id"],
                client_email=raw["client_email"],
                private_key=raw["private_key"],
                private_key_id=raw.get("private_key_id", ""),
                token_uri=raw.get("token_uri") or "https://oauth2.googleapis.com/token",
            )
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise InvalidCredentials(f"{path}: not a service account JSON key ({type(error).__name__})") from error

    def assertion(self, now: float) -> str:
        """The signed JWT the token URI exchanges for an access token (valid one hour)."""
        claims = {
            "iss": self.client_email,
            "scope": SCOPE,
            "aud": self.token_uri,
            "iat": int(now),
            "exp": int(now) + 3600,
        }
        headers = {"kid": self.private_key_id} if self.private_key_id else None
        return jwt.encode(claims, self.private_key, algorithm="RS256", headers=headers)


def fcm_payload(token: str, message: PushMessage) -> dict[str, Any]:
    """The v1 ``messages:send`` body: a notification, the data, and collapsing on Android and iOS alike."""
    return {
        "message": {
            "token": token,
            "notification": {"title": message.title, "body": message.body},
            "data": message.data,
            "android": {
                "collapse_key": message.collapse_key,
                "ttl": f"{message.ttl_seconds}s",
                "priority": "high",
                # The tag makes a later notification of the same key replace the shown one.
                "notification": {"tag": message.collapse_key},
            },
            "apns": {
                "headers": {"apns-collapse-id": message.collapse_key[:64]},
                "payload": {"aps": {"thread-id": message.collapse_key}},
            },
        }
    }


def classify_error(status: int, body: Any, retry_after: float | None = None) -> PushResult:
    """What an FCM error answer means for the device and the retry."""
    error = body.get("error", {}) if isinstance(body, dict) else {}
    details = error.get("details", []) if isinstance(error, dict) else []
    codes = {detail.get("errorCode") for detail in details if isinstance(detail, dict)}
    field_violations = any(isinstance(detail, dict) and detail.get("fieldViolations") for detail in details)
    message = str(error.get("message", ""))[:150] if isinstance(error, dict) else ""
    if status == 404 or "UNREGISTERED" in codes:
        return PushResult(Outcome.UNREGISTERED, message or "unregistered")
    if status == 403 and "SENDER_ID_MISMATCH" in codes:
        return PushResult(Outcome.UNREGISTERED, message or "token of another sender")
    if status == 400 and "INVALID_ARGUMENT" in codes and not field_violations:
        return PushResult(Outcome.UNREGISTERED, message or "invalid registration token")
    if status in (401, 429) or status >= 500:
        return PushResult(Outcome.RETRY, message or f"HTTP {status}", retry_after)
    return PushResult(Outcome.REJECTED, message or f"HTTP {status}")


class FcmProvider:
    name = "fcm"
    platforms = frozenset({"fcm"})

    def __init__(self, account: ServiceAccount, base_url: str, timeout: float = 10.0) -> None:
        self._account = account
        self._send_url = f"{base_url.rstrip('/')}/v1/projects/{account.project_id}/messages:send"
        self._http = httpx.AsyncClient(timeout=timeout)
        self._access_token: str | None = None
        self._expires_at = 0.0
        self._lock = asyncio.Lock()

    async def send(self, token: str, message: PushMessage) -> PushResult:
        for attempt in range(2):
            try:
                access_token = await self._token()
                response = await self._http.post(
                    self._send_url,
                    json=fcm_payload(token, message),
                    headers={"Authorization": f"Bearer {access_token}"},
                )
            except (httpx.HTTPError, ValueError, KeyError) as error:
                return PushResult(Outcome.RETRY, f"FCM unreachable: {type(error).__name__}")
            if response.status_code == 200:
                return PushResult(Outcome.DELIVERED)
            if response.status_code == 401 and attempt == 0:
                self._access_token = None  # revoked or expired early: fetch a new one and try once more
                continue
            return classify_error(
                response.status_code, _json(response), retry_after_seconds(response.headers.get("retry-after"))
            )
        return PushResult(Outcome.RETRY, "FCM refused a fresh access token")

    async def _token(self) -> str:
        async with self._lock:
            now = time.time()
            if self._access_token is None or now >= self._expires_at:
                response = await self._http.post(
                    self._account.token_uri,
                    data={"grant_type": _JWT_BEARER, "assertion": self._account.assertion(now)},
                )
                response.raise_for_status()
                body = response.json()
                self._access_token = str(body["access_token"])
                # Renewed a minute early, so a token never expires on its way.
                self._expires_at = now + float(body.get("expires_in", 3600)) - 60
            return self._access_token

    async def close(self) -> None:
        await self._http.aclose()


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return {}
