"""RuStore push notifications over httpx: an FCM-like ``messages:send`` API with a static service token.

``POST /v1/projects/{project_id}/messages:send`` with ``Authorization: Bearer
<service token>`` (both from the RuStore console). A token RuStore does not know
(404) removes the device; 401/403 (a wrong service token), 429 and 5xx are
retried later, so a misconfiguration loses nothing once it is fixed.
"""

from typing import Any

import httpx

from notifications_service.domain.push import Outcome, PushMessage, PushResult, retry_after_seconds


def rustore_payload(token: str, message: PushMessage) -> dict[str, Any]:
    return {
        "message": {
            "token": token,
            "notification": {"title": message.title, "body": message.body},
            "data": message.data,
            "android": {
                "ttl": f"{message.ttl_seconds}s",
                "notification": {"title": message.title, "body": message.body},
            },
        }
    }


def classify_error(status: int, body: Any, retry_after: float | None = None) -> PushResult:
    error = body.get("error", {}) if isinstance(body, dict) else {}
    message = str(error.get("message", ""))[:150] if isinstance(error, dict) else ""
    if status == 404:
        return PushResult(Outcome.UNREGISTERED, message or "unknown push token")
    if status in (401, 403, 429) or status >= 500:
        return PushResult(Outcome.RETRY, message or f"HTTP {status}", retry_after)
    return PushResult(Outcome.REJECTED, message or f"HTTP {status}")


class RuStoreProvider:
    name = "rustore"
    platforms = frozenset({"rustore"})

    def __init__(self, project_id: str, service_token: str, base_url: str, timeout: float = 10.0) -> None:
        self._send_url = f"{base_url.rstrip('/')}/v1/projects/{project_id}/messages:send"
        self._http = httpx.AsyncClient(timeout=timeout, headers={"Authorization": f"Bearer {service_token}"})

    async def send(self, token: str, message: PushMessage) -> PushResult:
        try:
            response = await self._http.post(self._send_url, json=rustore_payload(token, message))
        except httpx.HTTPError as error:
            return PushResult(Outcome.RETRY, f"RuStore unreachable: {type(error).__name__}")
        if response.status_code == 200:
            return PushResult(Outcome.DELIVERED)
        try:
            body = response.json()
        except ValueError:
            body = {}
        return classify_error(response.status_code, body, retry_after_seconds(response.headers.get("retry-after")))

    async def close(self) -> None:
        await self._http.aclose()
