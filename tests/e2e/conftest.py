"""One running stack for the whole e2e session, driven only through the gateway."""

import random
from collections.abc import Iterator

import httpx
import pytest

from .stack import Stack


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    stack = Stack()
    try:
        stack.prepare()
        stack.start(
            wait_for=(
                stack.service_url("AUTH_PORT", "/ready"),
                stack.service_url("AUTH_VERIFIER_PORT", "/ready"),
                stack.service_url("LISTINGS_PORT", "/ready"),
                stack.service_url("REQUESTS_PORT", "/ready"),
                stack.service_url("CHAT_A_PORT", "/ready"),
                stack.service_url("CHAT_B_PORT", "/ready"),
                stack.service_url("GATEWAY_ADMIN_PORT", "/ping"),
            )
        )
        yield stack
    finally:
        stack.destroy()


@pytest.fixture
def gateway(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.gateway, timeout=10) as client:
        yield client


@pytest.fixture
def phone() -> str:
    return f"+7916{random.randrange(10**7):07d}"


class Client:
    """What a mobile app does: register, confirm the code, keep the token."""

    def __init__(self, gateway: httpx.Client) -> None:
        self.gateway = gateway

    def register(self, phone: str, role: str = "realtor") -> str:
        body = {"phone": phone, "first_name": "Иван", "last_name": "Иванов", "role": role}
        response = self.gateway.post("/users/register/", json=body)
        assert response.status_code == 201, response.text
        code: str = response.json()["code"]
        return code

    def login(self, phone: str, role: str = "realtor") -> dict[str, str]:
        code = self.register(phone, role)
        response = self.gateway.post("/users/token", json={"phone": phone, "activation_code": code})
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture
def app_client(gateway: httpx.Client) -> Client:
    return Client(gateway)
