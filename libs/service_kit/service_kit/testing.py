"""Test isolation on the real servers: a database, a namespace and keys per test run.

Also the pytest plugin of the fixtures every service's tests start from (see ``ServiceUnderTest``).
"""

import asyncio
import json
import os
import secrets
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aio_pika
import asyncpg
import httpx
import jwt
import pytest
from asgi_lifespan import LifespanManager
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI
from jsonschema import Draft202012Validator, FormatChecker
from redis.asyncio import Redis
from referencing import Registry, Resource

from service_kit.events.envelope import EventEnvelope
from service_kit.events.schemas import EVENT_SCHEMAS_DIR, schema_file_name
from service_kit.events.topology import Topology
from service_kit.security import AUDIENCE, ISSUER, InvalidToken, public_jwk
from service_kit.settings import ServiceSettings

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432")
RABBITMQ_URL = os.environ.get("TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def run_id() -> str:
    return secrets.token_hex(4)


def asyncpg_url(database: str) -> str:
    return f"{POSTGRES_URL.replace('postgresql://', 'postgresql+asyncpg://', 1)}/{database}"


@asynccontextmanager
async def migrated_database(name: str, alembic_ini: Path) -> AsyncIterator[str]:
    """Creates database ``name``, runs the service's migrations, drops it afterwards."""
    admin = await asyncpg.connect(f"{POSTGRES_URL}/postgres")
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = asyncpg_url(name)
    try:
        migration = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "alembic", "-c", str(alembic_ini), "upgrade", "head"),
            env=os.environ | {"DATABASE_URL": url},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output, _ = await migration.communicate()
        if migration.returncode != 0:
            raise RuntimeError(f"migrations of {name} failed:\n{output.decode()}")
        yield url
    finally:
        admin = await asyncpg.connect(f"{POSTGRES_URL}/postgres")
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


async def delete_namespace(namespace: str, consumers: tuple[str, ...] = ()) -> None:
    """Removes the run's Redis keys and its RabbitMQ exchanges and queues."""
    redis = Redis.from_url(REDIS_URL)
    try:
        keys = [key async for key in redis.scan_iter(match=f"{namespace}:*", count=1000)]
        if keys:
            await redis.delete(*keys)
    finally:
        await redis.aclose()
    topology = Topology(namespace)
    connection = await aio_pika.connect(RABBITMQ_URL)
    try:
        async with connection.channel() as channel:
            for queue in (topology.dead_letter_queue, *(topology.queue(name) for name in consumers)):
                await channel.queue_delete(queue)
            await channel.exchange_delete(topology.exchange)
            await channel.exchange_delete(topology.dead_letter_exchange)
    finally:
        await connection.close()


def write_key_pair(directory: Path) -> tuple[Path, Path]:
    key = Ed25519PrivateKey.generate()
    private_path, public_path = directory / "jwt-private.pem", directory / "jwt-public.pem"
    private_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    public_path.write_bytes(
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return private_path, public_path


CONTRACTS_DIR = Path(__file__).resolve().parents[3] / "contracts"


def validate_event(envelope: dict[str, Any]) -> None:
    """Raises jsonschema.ValidationError unless the event matches its committed schema in contracts/events/."""
    schemas = {path.name: json.loads(path.read_text()) for path in EVENT_SCHEMAS_DIR.glob("*.json")}
    registry: Registry[Any] = Registry().with_resources(
        (name, Resource.from_contents(schema)) for name, schema in schemas.items()
    )
    schema = schemas[schema_file_name(envelope["type"], envelope["version"])]
    Draft202012Validator(schema, registry=registry, format_checker=FormatChecker()).validate(envelope)


class TokenFactory:
    """Signs test tokens the way the auth service does, with a key of the test run."""

    def __init__(self) -> None:
        self._key = Ed25519PrivateKey.generate()
        self._jwk = public_jwk(self._key.public_key())
        self.jwks: dict[str, Any] = {"keys": [self._jwk]}

    def token(self, user_id: int, role: str, ttl_seconds: int = 3600) -> str:
        now = int(time.time())
        claims = {
            "sub": str(user_id),
            "role": role,
            "iat": now,
            "exp": now + ttl_seconds,
            "iss": ISSUER,
            "aud": AUDIENCE,
        }
        return self.sign(claims)

    def sign(self, claims: dict[str, Any]) -> str:
        """Any claims, for tests of what the verifiers refuse."""
        return jwt.encode(claims, self._key, algorithm="EdDSA", headers={"kid": self._jwk["kid"]})

    def headers(self, user_id: int, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(user_id, role)}"}


def envelope(event_type: str, data: dict[str, Any], producer: str = "test") -> EventEnvelope:
    return EventEnvelope(type=event_type, producer=producer, data=data)


@dataclass(frozen=True)
class ServiceUnderTest:
    """What a service's conftest tells the kit's fixtures (a ``service_under_test`` fixture returns it).

    ``trusts_test_tokens``: the app verifies tokens of the session's ``tokens`` factory
    (every service but auth, which verifies the tokens it issues itself).
    """

    name: str
    alembic_ini: Path
    create_app: Callable[[Any], FastAPI]
    settings_class: type[ServiceSettings]
    trusts_test_tokens: bool = True


# The fixtures below are a pytest plugin (the repository's conftest.py loads it): database_url
# (per run), namespace (per test, cleaned up), tokens, settings, app (lifespan running) and client
# (httpx through ASGI). They serve whichever service the test's conftest names in service_under_test.


class _TestDatabases:
    """One migrated database per service for the whole session, made when first asked for."""

    def __init__(self, stack: AsyncExitStack) -> None:
        self._stack = stack
        self._urls: dict[str, str] = {}

    async def url_for(self, service: ServiceUnderTest) -> str:
        if service.name not in self._urls:
            database = migrated_database(f"{service.name}_test_{run_id()}", service.alembic_ini)
            self._urls[service.name] = await self._stack.enter_async_context(database)
        return self._urls[service.name]


@pytest.fixture(scope="session")
async def test_databases() -> AsyncIterator[_TestDatabases]:
    async with AsyncExitStack() as stack:
        yield _TestDatabases(stack)


@pytest.fixture
async def database_url(service_under_test: ServiceUnderTest, test_databases: _TestDatabases) -> str:
    return await test_databases.url_for(service_under_test)


@pytest.fixture
async def namespace(service_under_test: ServiceUnderTest) -> AsyncIterator[str]:
    name = f"test-{run_id()}"
    yield name
    await delete_namespace(name, consumers=(service_under_test.name,))


@pytest.fixture(scope="session")
def tokens() -> TokenFactory:
    return TokenFactory()


@pytest.fixture
def extra_settings() -> dict[str, Any]:
    """Settings a service's tests add to the common ones (a conftest overrides this fixture)."""
    return {}


@pytest.fixture
def settings(
    service_under_test: ServiceUnderTest,
    database_url: str,
    namespace: str,
    tmp_path: Path,
    extra_settings: dict[str, Any],
) -> ServiceSettings:
    values: dict[str, Any] = {
        "environment": "test",
        "database_url": database_url,
        "rabbitmq_url": RABBITMQ_URL,
        "redis_url": REDIS_URL,
        "namespace": namespace,
        "jwks_url": "http://127.0.0.1:9/unused",
        "log_json": False,
        "outbox_poll_seconds": 0.2,
    }
    if "media_dir" in service_under_test.settings_class.model_fields:
        values["media_dir"] = tmp_path / "media"
    return service_under_test.settings_class(**(values | extra_settings))


@pytest.fixture
async def app(
    service_under_test: ServiceUnderTest, settings: ServiceSettings, tokens: TokenFactory
) -> AsyncIterator[FastAPI]:
    application = service_under_test.create_app(settings)
    if service_under_test.trusts_test_tokens:
        application.state.token_verifier.keys.load(tokens.jwks)
    async with LifespanManager(application):
        yield application


@pytest.fixture
async def client(service_under_test: ServiceUnderTest, app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("10.0.0.2", 5000))
    async with httpx.AsyncClient(transport=transport, base_url=f"http://{service_under_test.name}") as http:
        yield http


def assert_openapi_matches_contract(app: FastAPI, service: str) -> None:
    """Fails when the app's OpenAPI document drifts from contracts/openapi/<service>.json.

    ``UPDATE_CONTRACTS=1`` rewrites the file instead (``make contracts``); review the diff.
    """
    path = CONTRACTS_DIR / "openapi" / f"{service}.json"
    current = json.dumps(app.openapi(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    if os.environ.get("UPDATE_CONTRACTS") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(current, encoding="utf-8")
    committed = path.read_text(encoding="utf-8") if path.exists() else ""
    assert current == committed, f"{service}'s API drifted from {path}; run `make contracts` and review the diff"


class StandardServiceChecks:
    """What every service must pass; a service's tests subclass it as ``TestStandard`` with ``service``.

    Needs the ``app`` and ``client`` fixtures of the service's conftest.
    """

    service: str

    async def test_health_ready_and_metrics(self, client: httpx.AsyncClient) -> None:
        assert (await client.get("/health")).json() == {"status": "ok"}
        deadline = time.monotonic() + 10
        ready = await client.get("/ready")
        while ready.status_code != 200 and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
            ready = await client.get("/ready")
        assert ready.status_code == 200, ready.text
        assert "http_requests_total" in (await client.get("/metrics")).text

    async def test_docs_are_served_under_the_service_name(self, client: httpx.AsyncClient) -> None:
        assert (await client.get(f"/docs/{self.service}")).status_code == 200
        document = (await client.get(f"/openapi/{self.service}.json")).json()
        assert document["info"]["title"] == f"Marketplace {self.service} service"

    async def test_tokens_signed_by_unknown_keys_are_refused(self, app: FastAPI) -> None:
        with pytest.raises(InvalidToken, match="unknown key"):
            app.state.token_verifier.verify(TokenFactory().token(1, "user"))

    def test_openapi_matches_the_contract(self, app: FastAPI) -> None:
        assert_openapi_matches_contract(app, self.service)
