"""GET /users/me through the gateway (Traefik + forward-auth) vs. the auth service directly.

Starts the local stack the way the e2e tests do (honcho, Procfile, gateway
config) on free ports, logs a user in, then measures both targets with the
same keep-alive load generator in one run, alternating rounds so both see the
same machine state. Prints requests per second and the ratio (SPEC section 9:
the gateway path should keep at least 0.5 of direct throughput).

    .venv/bin/python benchmarks/gateway_overhead.py [--seconds 5] [--connections 32] [--rounds 2]
"""

import argparse
import asyncio
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.e2e.stack import Stack


async def _connection(host: str, port: int, request: bytes, stop_at: float, counts: list[int]) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < stop_at:
            writer.write(request)
            status_line = await reader.readline()
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await reader.readexactly(length)
            if b" 200 " not in status_line:
                raise RuntimeError(f"unexpected answer: {status_line!r}")
            counts[0] += 1
    finally:
        writer.close()


async def requests_per_second(url: str, token: str, seconds: float, connections: int) -> float:
    parts = urlsplit(url)
    request = (f"GET {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nAuthorization: Bearer {token}\r\n\r\n").encode()
    counts = [0]
    started = time.perf_counter()
    stop_at = started + seconds
    await asyncio.gather(
        *(
            _connection(parts.hostname or "127.0.0.1", parts.port or 80, request, stop_at, counts)
            for _ in range(connections)
        )
    )
    return counts[0] / (time.perf_counter() - started)


def login(gateway: str) -> str:
    phone = "+79160009999"
    with httpx.Client(base_url=gateway, timeout=10) as client:
        body = {"phone": phone, "first_name": "Bench", "last_name": "Mark", "role": "user"}
        code = client.post("/users/register", json=body).json()["code"]
        return str(client.post("/users/token", json={"phone": phone, "activation_code": code}).json()["access_token"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    stack = Stack()
    try:
        stack.prepare()
        stack.start(
            "gateway",
            "verifier",
            "auth",
            wait_for=(
                stack.service_url("AUTH_PORT", "/ready"),
                stack.service_url("AUTH_VERIFIER_PORT", "/ready"),
                stack.service_url("GATEWAY_ADMIN_PORT", "/ping"),
            ),
        )
        token = login(stack.gateway)
        targets = {"direct": stack.service_url("AUTH_PORT", "/users/me"), "gateway": f"{stack.gateway}/users/me"}
        results: dict[str, list[float]] = {name: [] for name in targets}
        for _ in range(args.rounds):
            for name, url in targets.items():
                rps = uvloop.run(requests_per_second(url, token, args.seconds, args.connections))
                results[name].append(rps)
                print(f"{name:8s} {rps:9.0f} req/s")
        direct = max(results["direct"])
        through_gateway = max(results["gateway"])
        print(f"\nbest direct  {direct:9.0f} req/s\nbest gateway {through_gateway:9.0f} req/s")
        print(f"ratio gateway/direct = {through_gateway / direct:.2f} (budget: >= 0.50)")
    finally:
        stack.destroy()


if __name__ == "__main__":
    main()
