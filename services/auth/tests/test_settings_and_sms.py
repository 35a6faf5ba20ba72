"""Production refuses development shortcuts; the SMS.ru provider sends what SMS.ru expects."""

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs

import pytest
from pydantic import ValidationError

from auth_service.domain.sms import SmsDeliveryFailed, SmsRuProvider
from auth_service.settings import AuthSettings


def production(**overrides: Any) -> AuthSettings:
    values: dict[str, Any] = {
        "environment": "production",
        "database_url": "postgresql+asyncpg://auth@db/auth",
        "rabbitmq_url": "amqp://marketplace:s3cret@mq/",
        "jwt_private_key_path": Path("/run/secrets/jwt-private.pem"),
        "jwt_public_key_path": Path("/run/secrets/jwt-public.pem"),
        "code_hmac_secret": "x" * 48,
        "sms_provider": "smsru",
        "smsru_api_id": "A1B2C3D4-real-key",
    }
    return AuthSettings(**(values | overrides))


def test_production_accepts_real_settings() -> None:
    assert production().is_production


@pytest.mark.parametrize(
    ("overrides", "complaint"),
    [
        ({"sms_provider": "console", "smsru_api_id": None}, "console SMS provider"),
        ({"smsru_api_id": None}, "SMSRU_API_ID"),
        ({"code_hmac_secret": "change-me"}, "CODE_HMAC_SECRET"),
        ({"rabbitmq_url": "amqp://guest:guest@mq/"}, "guest"),
    ],
)
def test_production_refuses_development_values(overrides: dict[str, Any], complaint: str) -> None:
    with pytest.raises(ValidationError, match=complaint):
        production(**overrides)


def test_console_codes_are_shown_only_in_development_setups() -> None:
    assert not production().codes_are_shown


class FakeSmsRu(BaseHTTPRequestHandler):
    """A local stand-in for SMS.ru's API that records what it was sent."""

    received: ClassVar[list[dict[str, list[str]]]] = []
    reply: ClassVar[dict[str, Any]] = {}

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        FakeSmsRu.received.append({"path": [self.path], **parse_qs(self.rfile.read(length).decode())})
        body = json.dumps(FakeSmsRu.reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture
def sms_ru() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), FakeSmsRu)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    FakeSmsRu.received.clear()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


async def test_smsru_provider_posts_the_message(sms_ru: str) -> None:
    FakeSmsRu.reply = {"status": "OK", "sms": {"79251234567": {"status": "OK", "sms_id": "1"}}}
    provider = SmsRuProvider("api-key-1", sms_ru, sender="Market")
    await provider.send("+79251234567", "Код подтверждения: 123456")
    (request,) = FakeSmsRu.received
    assert request["path"] == ["/sms/send"]
    assert request["api_id"] == ["api-key-1"]
    assert request["to"] == ["79251234567"]
    assert request["msg"] == ["Код подтверждения: 123456"]
    assert request["json"] == ["1"]
    assert request["from"] == ["Market"]


async def test_smsru_refusal_and_outage_raise(sms_ru: str) -> None:
    FakeSmsRu.reply = {"status": "OK", "sms": {"79251234567": {"status": "ERROR", "status_code": 207}}}
    with pytest.raises(SmsDeliveryFailed):
        await SmsRuProvider("api-key-1", sms_ru).send("+79251234567", "code")
    with pytest.raises(SmsDeliveryFailed):
        await SmsRuProvider("api-key-1", "http://127.0.0.1:1").send("+79251234567", "code")
