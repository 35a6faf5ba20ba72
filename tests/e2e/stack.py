"""Runs the local stack exactly as `make run` does (honcho + Procfile + the gateway
config), on free ports, fresh databases and a namespace of its own."""

import asyncio
import os
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import asyncpg
import httpx
from dotenv import dotenv_values

from service_kit.testing import POSTGRES_URL, delete_namespace

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.prefix) / "bin"

# Services with a queue of their own, removed with the run.
CONSUMERS = ("auth", "listings", "requests", "chat", "notifications")

# Which base URL each upstream variable is built from (variables holding ports).
UPSTREAMS = {
    "AUTH_URL": ["AUTH_PORT"],
    "AUTH_VERIFIER_URL": ["AUTH_VERIFIER_PORT"],
    "JWKS_URL": ["AUTH_PORT"],
    "LISTINGS_URL": ["LISTINGS_PORT"],
    "REQUESTS_URL": ["REQUESTS_PORT"],
    "CHAT_URLS": ["CHAT_A_PORT", "CHAT_B_PORT"],
    "NOTIFICATIONS_URLS": ["NOTIFICATIONS_A_PORT", "NOTIFICATIONS_B_PORT"],
    "GATEWAY_PAGES_URL": ["GATEWAY_PAGES_PORT"],
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Stack:
    def __init__(self, base: "Stack | None" = None, **overrides: str) -> None:
        self.run_id: str = base.run_id if base else secrets.token_hex(4)
        self.workdir: Path = base.workdir if base else Path(tempfile.mkdtemp(prefix=f"e2e-{self.run_id}-"))
        self.env: dict[str, str] = (base.env if base else self._environment()) | overrides
        self.env_file = self.workdir / f"stack-{secrets.token_hex(2)}.env"
        # Quoted as a shell would: honcho parses env files that way.
        self.env_file.write_text("".join(f"{key}={shlex.quote(value)}\n" for key, value in self.env.items()))
        self.gateway = f"http://127.0.0.1:{self.env['GATEWAY_PORT']}"
        self.processes: list[subprocess.Popen[bytes]] = []
        self._owns_workdir = base is None
        self._variants: list[Stack] = []

    def variant(self, **overrides: str) -> "Stack":
        """Another run of the same stack (same databases and keys) with some settings changed.

        It is stopped with this stack at the latest, so no test can leave its processes behind.
        """
        if "GATEWAY_PORT" in overrides:
            # Another gateway: its loopback entry point (forwardAuth -> verifier) must not clash either.
            overrides.setdefault("GATEWAY_INTERNAL_PORT", str(free_port()))
        child = Stack(self, **overrides)
        self._variants.append(child)
        return child

    def _environment(self) -> dict[str, str]:
        env = {key: value or "" for key, value in dotenv_values(ROOT / "deploy" / "local.env").items()}
        for key in [key for key in env if key.endswith("_PORT")]:
            env[key] = str(free_port())
        for key, ports in UPSTREAMS.items():
            suffix = "/.well-known/jwks.json" if key == "JWKS_URL" else ""
            env[key] = ",".join(f"http://127.0.0.1:{env[port]}{suffix}" for port in ports)
        for key in [key for key in env if key.endswith("_DATABASE_URL")]:
            base, _, name = env[key].rpartition("/")
            env[key] = f"{base}/e2e_{self.run_id}_{name}"
        for key in [key for key in env if key.endswith("_MEDIA_DIR")]:
            env[key] = str(self.workdir / env[key])
        env["NAMESPACE"] = f"e2e-{self.run_id}"
        env["SECRETS_DIR"] = str(self.workdir / "secrets")
        env["JWT_PRIVATE_KEY_PATH"] = str(self.workdir / "keys" / "jwt-private.pem")
        env["JWT_PUBLIC_KEY_PATH"] = str(self.workdir / "keys" / "jwt-public.pem")
        env["GATEWAY_RUN_DIR"] = str(self.workdir / "gateway")
        env["LOG_JSON"] = "false"
        # Every e2e client comes from 127.0.0.1: the per-network daily cap would soon refuse codes.
        env["CODE_DAILY_CAP_PER_IP"] = "100000"
        return env

    def prepare(self) -> None:
        """The set-up half of `make run`: databases, migrations, development keys."""
        subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "bootstrap.py"), str(self.env_file), "prepare"],
            cwd=ROOT,
            check=True,
            env=os.environ | self.env,
        )

    def start(self, *processes: str, wait_for: tuple[str, ...] = ("/ready",)) -> subprocess.Popen[bytes]:
        """``honcho start [process ...]`` with this stack's env file; returns once ready."""
        log = (self.workdir / f"honcho-{len(self.processes)}.log").open("wb")
        honcho = subprocess.Popen(
            [
                str(BIN / "honcho"),
                "--env",
                str(self.env_file),
                "--procfile",
                str(ROOT / "Procfile"),
                "start",
                *processes,
            ],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=os.environ | {"PATH": f"{BIN}:{os.environ['PATH']}"},
            start_new_session=True,
        )
        self.processes.append(honcho)
        self.wait_until_up(honcho, wait_for)
        return honcho

    def wait_until_up(self, honcho: subprocess.Popen[bytes], urls: tuple[str, ...], within: float = 30.0) -> None:
        deadline = time.monotonic() + within
        pending = list(urls)
        while pending:
            if honcho.poll() is not None:
                raise RuntimeError(f"the stack exited early; see {self.workdir}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"not up: {pending}; see {self.workdir}")
            try:
                if httpx.get(pending[0], timeout=1).status_code == 200:
                    pending.pop(0)
                    continue
            except httpx.HTTPError:
                pass
            time.sleep(0.1)

    def stop(self, honcho: subprocess.Popen[bytes]) -> None:
        if honcho.poll() is None:
            os.killpg(honcho.pid, signal.SIGTERM)
            try:
                honcho.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(honcho.pid, signal.SIGKILL)
                honcho.wait()

    def service_url(self, port_variable: str, path: str) -> str:
        return f"http://127.0.0.1:{self.env[port_variable]}{path}"

    def close(self) -> None:
        for child in self._variants:
            child.close()
        for honcho in self.processes:
            self.stop(honcho)
        if self._owns_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def destroy(self) -> None:
        """Stops everything and removes the run's databases, queues and Redis keys."""
        self.close()
        asyncio.run(self._drop_databases())
        asyncio.run(delete_namespace(self.env["NAMESPACE"], consumers=CONSUMERS))

    async def _drop_databases(self) -> None:
        admin = await asyncpg.connect(f"{POSTGRES_URL}/postgres")
        try:
            for key, url in self.env.items():
                if key.endswith("_DATABASE_URL"):
                    await admin.execute(f'DROP DATABASE IF EXISTS "{url.rpartition("/")[2]}" WITH (FORCE)')
        finally:
            await admin.close()


class ComposeStack:
    """The same e2e tests against deploy/compose.yml, where a Docker engine runs (E2E_TARGET=compose).

    Development override (console SMS provider, so tests read codes as with
    `make run`), a project name of its own, the gateway on a free port.
    """

    def __init__(self) -> None:
        self.run_id = secrets.token_hex(4)
        self.port = free_port()
        self.gateway = f"http://127.0.0.1:{self.port}"
        self._compose = [
            "docker", "compose",
            "-f", str(ROOT / "deploy" / "compose.yml"),
            "-f", str(ROOT / "deploy" / "compose.override.example.yml"),
            "-p", f"e2e-{self.run_id}",
        ]  # fmt: skip
        self._env = os.environ | {"GATEWAY_PUBLISH": str(self.port)}

    def start(self) -> None:
        subprocess.run(["sh", str(ROOT / "deploy" / "dev-secrets.sh")], check=True, env=self._env)
        subprocess.run([*self._compose, "up", "-d", "--build", "--wait"], check=True, env=self._env, cwd=ROOT)

    def destroy(self) -> None:
        subprocess.run([*self._compose, "down", "-v"], check=False, env=self._env, cwd=ROOT)
