"""Test isolation on the real servers: a database, a namespace and keys per test run."""

import asyncio
import json
import os
import secrets
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aio_pika
import asyncpg
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jsonschema import Draft202012Validator, FormatChecker
from redis.asyncio import Redis
from referencing import Registry, Resource

from service_kit.events.topology import Topology

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
    """Raises jsonschema.ValidationError unless the event matches contracts/events/<type>.json."""
    schemas = {path.name: json.loads(path.read_text()) for path in (CONTRACTS_DIR / "events").glob("*.json")}
    registry: Registry[Any] = Registry().with_resources(
        (name, Resource.from_contents(schema)) for name, schema in schemas.items()
    )
    schema = schemas[f"{envelope['type']}.json"]
    Draft202012Validator(schema, registry=registry, format_checker=FormatChecker()).validate(envelope)
