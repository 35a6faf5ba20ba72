"""The set-up step of `make run`/`make test` names an unreachable server and how to start it."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BOOTSTRAP = ROOT / "scripts" / "bootstrap.py"


def run_check(tmp_path: Path, **overrides: str) -> subprocess.CompletedProcess[str]:
    env = {
        "POSTGRES_URL": "postgresql+asyncpg://postgres@127.0.0.1:5432",
        "RABBITMQ_URL": "amqp://guest:guest@127.0.0.1:5672/",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
    } | overrides
    env_file = tmp_path / "check.env"
    env_file.write_text("".join(f"{key}={value}\n" for key, value in env.items()))
    return subprocess.run(
        [sys.executable, str(BOOTSTRAP), str(env_file), "check"], capture_output=True, text=True, timeout=60
    )


def test_reachable_servers_pass(tmp_path: Path) -> None:
    result = run_check(tmp_path)
    assert result.returncode == 0, result.stderr


def test_each_unreachable_server_is_named_with_its_start_command(tmp_path: Path) -> None:
    result = run_check(
        tmp_path,
        POSTGRES_URL="postgresql+asyncpg://postgres@127.0.0.1:9",
        RABBITMQ_URL="amqp://guest:guest@127.0.0.1:9/",
        REDIS_URL="redis://127.0.0.1:9/0",
    )
    assert result.returncode == 1
    for name, command in [
        ("PostgreSQL", "pg_ctlcluster"),
        ("RabbitMQ", "rabbitmq-server -detached"),
        ("Redis", "redis-server --daemonize yes"),
    ]:
        assert f"ERROR: {name} is unreachable" in result.stderr
        assert command in result.stderr


def test_only_the_missing_one_is_reported(tmp_path: Path) -> None:
    result = run_check(tmp_path, REDIS_URL="redis://127.0.0.1:9/0")
    assert result.returncode == 1
    assert "Redis is unreachable" in result.stderr
    assert "PostgreSQL" not in result.stderr
    assert "RabbitMQ" not in result.stderr
