"""Auth tests run the real app on a database, namespace and keys of their own."""

import io
import random
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from PIL import Image

from auth_service.main import create_app
from auth_service.settings import AuthSettings
from service_kit.testing import (
    RABBITMQ_URL,
    REDIS_URL,
    delete_namespace,
    migrated_database,
    run_id,
    write_key_pair,
)

ALEMBIC_INI = Path(__file__).resolve().parent.parent / "alembic.ini"


@pytest.fixture(scope="session")
async def database_url() -> AsyncIterator[str]:
    async with migrated_database(f"auth_test_{run_id()}", ALEMBIC_INI) as url:
        yield url


@pytest.fixture(scope="session")
def key_paths(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return write_key_pair(tmp_path_factory.mktemp("keys"))


@pytest.fixture
async def namespace() -> AsyncIterator[str]:
    name = f"test-{run_id()}"
    yield name
    await delete_namespace(name)


@pytest.fixture
def settings(database_url: str, key_paths: tuple[Path, Path], namespace: str, tmp_path: Path) -> AuthSettings:
    private_key, public_key = key_paths
    return AuthSettings(
        environment="test",
        database_url=database_url,
        rabbitmq_url=RABBITMQ_URL,
        redis_url=REDIS_URL,
        namespace=namespace,
        jwt_private_key_path=private_key,
        jwt_public_key_path=public_key,
        code_hmac_secret="test-secret-that-is-long-enough-for-hmac",
        media_dir=tmp_path / "media",
        log_json=False,
        outbox_poll_seconds=0.2,
    )


@pytest.fixture
async def app(settings: AuthSettings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with LifespanManager(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("10.0.0.1", 5000))
    async with httpx.AsyncClient(transport=transport, base_url="http://auth") as http:
        yield http


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
