"""What the gateway answers itself, with the real services behind it: one error shape, rate limits, docs."""

import json
from pathlib import Path

import httpx
import pytest

from .conftest import Client
from .stack import Stack, free_port

CONTRACTS = Path(__file__).resolve().parents[2] / "contracts" / "openapi"


def test_the_verifiers_refusals_say_why(gateway: httpx.Client) -> None:
    missing = gateway.get("/users/me")
    assert (missing.status_code, missing.json()["code"]) == (401, "unauthorized")
    assert missing.headers["www-authenticate"] == "Bearer"
    forged = gateway.get("/chat/my_chats", headers={"Authorization": "Bearer not.a.token"})
    assert (forged.status_code, forged.json()["code"]) == (401, "token_invalid")
    assert forged.json()["detail"].startswith("Invalid credentials")


def test_unknown_paths_and_oversized_bodies_are_json(gateway: httpx.Client) -> None:
    assert gateway.get("/no/such/route").json() == {"detail": "Not Found", "code": "not_found"}
    big = gateway.post("/users/register", content=b"{" + b" " * (1024 * 1024) + b"}")
    assert (big.status_code, big.json()["code"]) == (413, "payload_too_large")


def test_one_merged_openapi_document_and_its_docs_page(gateway: httpx.Client) -> None:
    merged = gateway.get("/openapi.json")
    assert merged.status_code == 200
    paths = merged.json()["paths"]
    for contract in sorted(CONTRACTS.glob("*.json")):
        for path, item in json.loads(contract.read_text())["paths"].items():
            assert set(item) <= set(paths[path]), (contract.name, path)
    docs = gateway.get("/docs")
    assert docs.status_code == 200 and "/openapi.json" in docs.text
    assert gateway.get("/docs/listings").status_code == 200  # the per-service ones stay


@pytest.mark.local_stack
def test_a_gateway_with_low_limits_answers_a_json_429(stack: Stack, app_client: Client, phone: str) -> None:
    """Another gateway in front of the same services, with limits low enough to reach."""
    ports = {name: str(free_port()) for name in ("GATEWAY_PORT", "GATEWAY_ADMIN_PORT", "GATEWAY_INTERNAL_PORT")}
    limits = {
        "GATEWAY_USERS_LIST_PER_MINUTE": "1",
        "GATEWAY_USERS_LIST_BURST": "2",
        "GATEWAY_LISTINGS_PER_MINUTE": "3",
        "GATEWAY_LISTINGS_BURST": "2",
    }
    variant = stack.variant(**ports, **limits)
    variant.start("gateway", wait_for=(variant.service_url("GATEWAY_PORT", "/openapi.json"),))  # routes loaded
    headers = app_client.login(phone, "user")
    with httpx.Client(base_url=variant.gateway, timeout=10) as limited:
        listed = [limited.get("/users/list", headers=headers) for _ in range(3)]
        assert [answer.status_code for answer in listed] == [200, 200, 429]
        assert listed[-1].json() == {"detail": "Too many requests; retry after 60 s", "code": "rate_limited"}
        assert listed[-1].headers["retry-after"] == "60"
        searched = [limited.get(path) for path in ("/properties", "/properties/1", "/properties")]
        assert searched[0].status_code == 200
        assert searched[1].status_code in (200, 404)  # the card (the service's own 404 when nobody made #1 yet)
        assert (searched[-1].status_code, searched[-1].headers["retry-after"]) == (429, "20")
        assert searched[-1].headers["access-control-allow-origin"] == "*"
        assert limited.get("/users/me", headers=headers).status_code == 200  # other routes are not limited
