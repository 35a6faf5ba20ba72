"""The chat service is up, ready, measured and verifies tokens itself."""

import asyncio
import time

import httpx
import pytest

from service_kit.security import InvalidToken
from service_kit.testing import TokenFactory


async def test_health_ready_and_metrics(client: httpx.AsyncClient) -> None:
    assert (await client.get("/health")).json() == {"status": "ok"}
    deadline = time.monotonic() + 10
    ready = await client.get("/ready")
    while ready.status_code != 200 and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
        ready = await client.get("/ready")
    assert ready.status_code == 200, ready.text
    metrics = await client.get("/metrics")
    assert "http_requests_total" in metrics.text


async def test_docs_are_served_under_the_service_name(client: httpx.AsyncClient) -> None:
    assert (await client.get("/docs/chat")).status_code == 200
    assert (await client.get("/openapi/chat.json")).json()["info"]["title"] == "Marketplace chat service"


async def test_foreign_tokens_are_refused(client: httpx.AsyncClient, tokens: TokenFactory) -> None:
    stranger = TokenFactory()
    verifier = client._transport.app.state.token_verifier  # type: ignore[attr-defined]
    assert verifier.verify(tokens.token(1, "user")).user_id == 1
    with pytest.raises(InvalidToken, match="unknown key"):
        verifier.verify(stranger.token(1, "user"))
