"""Set-up shared by `make run`, `make test` and the e2e harness.

    python scripts/bootstrap.py ENV_FILE check       # PostgreSQL, RabbitMQ, Redis reachable?
    python scripts/bootstrap.py ENV_FILE prepare     # check + databases + migrations + dev keys

Each service's database URL is <SERVICE>_DATABASE_URL in the env file.
"""

import asyncio
import os
import secrets
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import aio_pika
import asyncpg
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from dotenv import dotenv_values
from redis.asyncio import Redis

from service_kit.events.topology import declare_all_queues

ROOT = Path(__file__).resolve().parent.parent
SERVICES = ["auth", "listings", "requests", "chat", "notifications"]

HOW_TO_START = {
    "PostgreSQL": "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
    "RabbitMQ": "rabbitmq-server -detached",
    "Redis": 'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no '
    "--dir /var/lib/redis --logfile /var/log/redis/ci.log",
}


def load_env(env_file: Path) -> dict[str, str]:
    """The env file's values, overridden by the process environment."""
    values = {key: value for key, value in dotenv_values(env_file).items() if value is not None}
    return values | {key: os.environ[key] for key in values if key in os.environ}


def plain_postgres_url(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def _check_postgres(env: dict[str, str]) -> None:
    connection = await asyncpg.connect(plain_postgres_url(env["POSTGRES_URL"]) + "/postgres", timeout=5)
    await connection.close()


async def _check_rabbitmq(env: dict[str, str]) -> None:
    connection = await aio_pika.connect(env["RABBITMQ_URL"], timeout=5)
    await connection.close()


async def _check_redis(env: dict[str, str]) -> None:
    redis = Redis.from_url(env["REDIS_URL"], socket_connect_timeout=5)
    try:
        await redis.ping()
    finally:
        await redis.aclose()


async def check(env: dict[str, str]) -> bool:
    checks = {"PostgreSQL": _check_postgres, "RabbitMQ": _check_rabbitmq, "Redis": _check_redis}
    healthy = True
    for name, probe in checks.items():
        try:
            await asyncio.wait_for(probe(env), timeout=10)
        except Exception as error:
            healthy = False
            print(f"ERROR: {name} is unreachable ({type(error).__name__}: {error}).", file=sys.stderr)
            print(f"       Start it with: {HOW_TO_START[name]}", file=sys.stderr)
    return healthy


async def create_databases(env: dict[str, str]) -> None:
    admin = await asyncpg.connect(plain_postgres_url(env["POSTGRES_URL"]) + "/postgres")
    try:
        for service in SERVICES:
            name = urlsplit(env[f"{service.upper()}_DATABASE_URL"]).path.lstrip("/")
            exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
            if not exists:
                await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()


async def declare_queues(env: dict[str, str]) -> None:
    connection = await aio_pika.connect(env["RABBITMQ_URL"])
    try:
        await declare_all_queues(await connection.channel(), env["NAMESPACE"])
    finally:
        await connection.close()


def migrate(env: dict[str, str]) -> None:
    for service in SERVICES:
        service_dir = ROOT / "services" / service
        subprocess.run(
            [sys.executable, "-m", "alembic", "-c", str(service_dir / "alembic.ini"), "upgrade", "head"],
            env=os.environ | {"DATABASE_URL": env[f"{service.upper()}_DATABASE_URL"]},
            check=True,
        )


def _write_private(path: Path, data: bytes) -> None:
    """Created readable by the owner only: never a moment with wider permissions."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)


def ensure_development_secrets(env: dict[str, str]) -> None:
    """Keys and secrets for development only; production provides its own."""
    private_path = ROOT / env["JWT_PRIVATE_KEY_PATH"]
    public_path = ROOT / env["JWT_PUBLIC_KEY_PATH"]
    if not private_path.exists():
        private_path.parent.mkdir(parents=True, exist_ok=True)
        key = Ed25519PrivateKey.generate()
        _write_private(
            private_path,
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ),
        )
        public_path.write_bytes(
            key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        )
    secrets_dir = ROOT / env["SECRETS_DIR"]
    hmac_secret = secrets_dir / "code_hmac_secret"
    if not hmac_secret.exists():
        secrets_dir.mkdir(parents=True, exist_ok=True)
        _write_private(hmac_secret, secrets.token_urlsafe(48).encode())


def main() -> int:
    if len(sys.argv) != 3 or sys.argv[2] not in ("check", "prepare"):
        print(__doc__, file=sys.stderr)
        return 2
    env = load_env(Path(sys.argv[1]))
    if not asyncio.run(check(env)):
        return 1
    if sys.argv[2] == "prepare":
        asyncio.run(create_databases(env))
        migrate(env)
        asyncio.run(declare_queues(env))
        ensure_development_secrets(env)
    return 0


if __name__ == "__main__":
    sys.exit(main())
