"""Sending activation codes by SMS through a pluggable provider."""

import logging
from typing import Protocol

import httpx

logger = logging.getLogger(__name__)


class SmsDeliveryFailed(Exception):
    pass


class SmsProvider(Protocol):
    async def send(self, phone: str, text: str) -> None: ...


class ConsoleSmsProvider:
    """Development only: prints the message instead of sending it (never through logging)."""

    async def send(self, phone: str, text: str) -> None:
        print(f"[console SMS to {phone}] {text}", flush=True)


class SmsRuProvider:
    """SMS.ru's HTTP API (``/sms/send`` with ``json=1``)."""

    def __init__(self, api_id: str, base_url: str, sender: str | None = None, timeout: float = 10.0) -> None:
        self._api_id = api_id
        self._base_url = base_url.rstrip("/")
        self._sender = sender
        self._timeout = timeout

    async def send(self, phone: str, text: str) -> None:
        form = {"api_id": self._api_id, "to": phone.lstrip("+"), "msg": text, "json": "1"}
        if self._sender:
            form["from"] = self._sender
        try:
            async with httpx.AsyncClient(timeout=self._timeout) as client:
                response = await client.post(f"{self._base_url}/sms/send", data=form)
            response.raise_for_status()
            body = response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise SmsDeliveryFailed("SMS provider unreachable") from error
        number_status = body.get("sms", {}).get(phone.lstrip("+"), {}) if isinstance(body, dict) else {}
        if body.get("status") != "OK" or number_status.get("status") != "OK":
            logger.warning("SMS.ru refused a message", extra={"status_code": number_status.get("status_code")})
            raise SmsDeliveryFailed("SMS provider refused the message")
