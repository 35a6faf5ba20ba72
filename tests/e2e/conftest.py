"""One running stack for the whole e2e session, driven only through the gateway."""

import os
import random
from collections.abc import Iterator

import httpx
import pytest

from .fake_fcm import FakeFcm, fake_fcm_server
from .stack import ComposeStack, Stack

# E2E_TARGET=compose runs the tests against deploy/compose.yml (needs a Docker engine).
ON_COMPOSE = os.environ.get("E2E_TARGET") == "compose"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if ON_COMPOSE and item.get_closest_marker("local_stack"):
            item.add_marker(pytest.mark.skip(reason="restarts local processes; not possible against compose"))


@pytest.fixture(scope="session")
def fake_fcm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeFcm]:
    """FCM as the local stack's notifications service sees it: every push of the e2e run lands here."""
    yield from fake_fcm_server(tmp_path_factory.mktemp("fcm"))


@pytest.fixture(scope="session")
def stack(fake_fcm: FakeFcm) -> Iterator[Stack]:
    stack = Stack(**fake_fcm.settings())
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
                stack.service_url("NOTIFICATIONS_A_PORT", "/ready"),
                stack.service_url("NOTIFICATIONS_B_PORT", "/ready"),
                stack.service_url("GATEWAY_PAGES_PORT", "/ready"),
                stack.service_url("GATEWAY_ADMIN_PORT", "/ping"),
                # Health-checked replicas are in the gateway's rotation only after their first check passed.
                f"{stack.gateway}/openapi/chat.json",
                f"{stack.gateway}/openapi/notifications.json",
            )
        )
        yield stack
    finally:
        stack.destroy()


@pytest.fixture(scope="session")
def gateway_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """Where the system under test answers: the local stack's gateway, or the compose one."""
    if not ON_COMPOSE:
        yield request.getfixturevalue("stack").gateway
        return
    compose = ComposeStack()
    try:
        compose.start()
        yield compose.gateway
    finally:
        compose.destroy()


@pytest.fixture
def gateway(gateway_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=gateway_url, timeout=10) as client:
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
