"""Auth tests run the real app on a database, namespace and keys of their own."""

import io
import random
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from PIL import Image

from auth_service.main import create_app
from auth_service.settings import AuthSettings
from service_kit.testing import ServiceUnderTest, write_key_pair


@pytest.fixture(scope="session")
def service_under_test() -> ServiceUnderTest:
    # Auth verifies the tokens it issues with its own keys, not the test factory's.
    alembic_ini = Path(__file__).resolve().parent.parent / "alembic.ini"
    return ServiceUnderTest("auth", alembic_ini, create_app, AuthSettings, trusts_test_tokens=False)


@pytest.fixture(scope="session")
def key_paths(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return write_key_pair(tmp_path_factory.mktemp("keys"))


@pytest.fixture
def extra_settings(key_paths: tuple[Path, Path]) -> dict[str, Any]:
    private_key, public_key = key_paths
    return {
        "jwt_private_key_path": private_key,
        "jwt_public_key_path": public_key,
        "code_hmac_secret": "test-secret-that-is-long-enough-for-hmac",
    }


def _random_phone() -> str:
    return f"+7925{random.randrange(10**7):07d}"


@pytest.fixture
def phone() -> str:
    """A valid Russian mobile number no other test uses."""
    return _random_phone()


@pytest.fixture
def another_phone() -> str:
    return _random_phone()


@pytest.fixture
def exif_jpeg() -> bytes:
    """A photo carrying a camera make and GPS position in its EXIF."""
    image = Image.new("RGB", (64, 48), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "SpyCam"
    exif[0x8825] = {2: (55.0, 45.0, 0.0)}
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif)
    return buffer.getvalue()


class Users:
    """Registering and logging in through the API, as a client would."""

    def __init__(self, client: httpx.AsyncClient, app: FastAPI) -> None:
        self.client = client
        self.container = app.state.container

    async def end_cooldown(self, phone: str) -> None:
        """Skips the 60 s resend wait, for tests that log in twice."""
        await self.container.runtime.redis.delete(f"{self.container.settings.namespace}:auth:sms:cooldown:{phone}")

    async def register(self, phone: str, role: str = "realtor") -> str:
        response = await self.client.post(
            "/users/register", json={"phone": phone, "first_name": "Иван", "last_name": "Иванов", "role": role}
        )
        assert response.status_code == 201, response.text
        code: str = response.json()["code"]
        return code

    async def login(self, phone: str, role: str = "realtor") -> dict[str, str]:
        code = await self.register(phone, role)
        response = await self.client.post("/users/token", json={"phone": phone, "activation_code": code})
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture
def users(client: httpx.AsyncClient, app: FastAPI) -> Users:
    return Users(client, app)
