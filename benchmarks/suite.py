"""`make bench` (python -m benchmarks): the whole suite, one table, var/bench/results.json.

    .venv/bin/python -m benchmarks            # the full suite: 3 rounds, 100k listings and requests
    .venv/bin/python -m benchmarks --smoke    # every row end to end on tiny sizes, 1 round

Two stacks run side by side, each the Procfile under honcho with databases, ports and
a namespace of its own (tests/e2e/stack.py): the large one holds 100k listings and
100k open buyer requests, the small one 1k of each, from the same generator. The
baselines are started by the suite too. Rounds go through every row in turn, so the
ratio of a row compares figures taken minutes apart at most, on the same machine state.
"""

import argparse
import asyncio
import copy
import json
import math
import platform
import shutil
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, fields, replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import asyncpg
import yaml
from websockets.asyncio.client import connect

from benchmarks import seed
from benchmarks.matching import Probe, open_probe, visible_after
from benchmarks.outbox import message_sent_envelopes, publisher_rate, relay_rate
from benchmarks.population import Population, populate
from benchmarks.results import Row, markdown_table, render_table, write_json
from benchmarks.sockets import PairSpec, RateSearch, SocketWorkers, StepResult, WorkerSpec, generator_share, split
from benchmarks.system import (
    BIN,
    CPUS,
    ROOT,
    BenchError,
    Process,
    WrkResult,
    ensure_wrk,
    listening_pid,
    procfile_command,
    procfile_processes,
    raise_open_files_limit,
    rss_kib,
    run_wrk,
    uvicorn,
)
from tests.e2e.stack import Stack, free_port

RESULTS = ROOT / "var" / "bench" / "results.json"
P99_BUDGET_MS = 50.0
# The chat service allows 20 frames per user per 10 s (contracts/chat-websocket.md): each
# buyer sends at most 1.5 a second, so the offered chat rate tops out at 1.5 x chats.
MAX_RATE_PER_CHAT = 1.5
# Rows come in groups measured together; `--only` picks some (a partial table, for working on one).
GROUPS = ("http", "chat", "memory", "matching", "outbox")
# The gateway's forwardAuth middleware (gateway/dynamic.yml), put in front of the hello app.
GATEWAY_AUTH_MIDDLEWARE = "auth"


@dataclass(frozen=True)
class Sizes:
    rounds: int
    http_seconds: float
    warmup_seconds: float
    large: int  # listings and open buyer requests in the large stack
    small: int  # ... and in the small one
    realtors: int
    chats: int
    socket_workers: int
    step_seconds: float
    drain_seconds: float
    settle_seconds: float
    rate_start: float
    relay_ceiling: float
    bisections: int
    idle_sockets: int
    match_probes: int
    outbox_events: int
    deep_skip: int


FULL = Sizes(
    rounds=3,
    http_seconds=5,
    warmup_seconds=2,
    large=100_000,
    small=1_000,
    realtors=50,
    chats=1000,
    socket_workers=2,
    step_seconds=3,
    drain_seconds=1,
    settle_seconds=20,
    rate_start=250,
    relay_ceiling=20_000,
    bisections=3,
    idle_sockets=1000,
    match_probes=100,
    outbox_events=20_000,
    deep_skip=200,
)
SMOKE = Sizes(
    rounds=1,
    http_seconds=1,
    warmup_seconds=0,
    large=2_000,
    small=200,
    realtors=3,
    chats=6,
    socket_workers=2,
    step_seconds=0.5,
    drain_seconds=0.5,
    settle_seconds=2,
    rate_start=6,
    relay_ceiling=12,
    bisections=0,
    idle_sockets=12,
    match_probes=2,
    outbox_events=1_000,
    deep_skip=10,
)


def search_queries(deep_skip: int) -> dict[str, dict[str, Any]]:
    return {
        "city + price + rooms, by price": {
            "city": "Москва",
            "deal_format": "sale",
            "type": "apartment",
            "price_min": 5_000_000,
            "price_max": 20_000_000,
            "rooms": 2,
            "sort": "price_asc",
        },
        "city, newest": {"city": "Москва", "sort": "newest"},
        f"city, newest, skip={deep_skip}": {"city": "Москва", "sort": "newest", "skip": deep_skip},
    }


def table_rows(queries: list[str]) -> list[Row]:
    """Every row of the table, in its order. A new service's rows go here (and in Suite)."""
    rows = [
        Row("me_vs_fastapi", "users/me direct / FastAPI hello", ">=", 0.35),
        Row("me_vs_starlette", "users/me direct / Starlette hello", None, None),
        Row("fastapi_vs_starlette", "FastAPI hello / Starlette hello", None, None),
        Row("verifier", "Traefik+forwardAuth->hello / Traefik->hello", ">=", 0.6),
        Row("gateway", "users/me via gateway / direct", ">=", 0.5),
        Row("card", "GET /properties/{id} direct / hello", ">=", 0.25),
        Row("my_chats", "GET /chat/my_chats direct / hello", ">=", 0.25),
        Row("chat_messages", "GET /chat/chat_messages/{id} direct / hello", ">=", 0.25),
    ]
    for index, name in enumerate(queries, 1):
        rows.append(Row(f"search_scale_{index}", f"search 100k/1k: {name}", ">=", 0.8))
    for index, name in enumerate(queries, 1):
        rows.append(Row(f"search_hello_{index}", f"search 100k / hello: {name}", ">=", 0.15))
    rows += [
        Row("chat_vs_relay", "chat max rate p99<=50ms / bare relay", ">=", 0.5, measured_unit="msg/s"),
        Row("chat_rate", "chat max rate p99<=50ms (msg/s)", ">=", 500, unit="msg/s", measured_unit="msg/s"),
        Row("socket_kib", "idle socket RSS per socket (KiB)", "<=", 16, unit="KiB", measured_unit="KiB"),
        Row("socket_kept_kib", "RSS kept after close per socket (KiB)", "<=", 4, unit="KiB", measured_unit="KiB"),
        Row("match_p99", "match visible p99 100k / 1k open requests", "<=", 1.5, measured_unit="ms"),
        Row("outbox", "outbox relay / aio-pika batched confirms", ">=", 0.5, measured_unit="ev/s"),
        # Notifications service (to come): its rows go here, e.g. a delivery rate against the bare relay.
    ]
    return rows


def ws_url(http_url: str) -> str:
    return http_url.replace("http://", "ws://", 1)


def plain_url(database_url: str) -> str:
    return database_url.replace("postgresql+asyncpg://", "postgresql://", 1)


# The small stack serves the 1k side of the search and matching rows only: no chat replicas,
# which also keeps the two stacks' database connections well under PostgreSQL's limit.
SMALL_STACK = ("gateway", "verifier", "auth", "listings", "requests")
READY = {
    "verifier": "AUTH_VERIFIER_PORT",
    "auth": "AUTH_PORT",
    "listings": "LISTINGS_PORT",
    "requests": "REQUESTS_PORT",
    "chat_a": "CHAT_A_PORT",
    "chat_b": "CHAT_B_PORT",
}


def start_stack(stack: Stack, processes: tuple[str, ...] = ()) -> None:
    """The Procfile (all of it, or ``processes``) under honcho; returns once every part is ready."""
    stack.prepare()
    ports = [port for name, port in READY.items() if not processes or name in processes]
    stack.start(
        *processes,
        wait_for=(
            *(stack.service_url(port, "/ready") for port in ports),
            stack.service_url("GATEWAY_ADMIN_PORT", "/ping"),
        ),
    )


class Suite:
    def __init__(
        self, sizes: Sizes, output: Path, groups: list[str] | None = None, log: Callable[[str], None] = print
    ) -> None:
        self.sizes = sizes
        self.groups = groups or list(GROUPS)
        self.output = output
        self.log = log
        self.queries = search_queries(sizes.deep_skip)
        self.rows = {row.key: row for row in table_rows(list(self.queries))}
        self.large = Stack()
        self.small = Stack()
        self.processes: list[Process] = []
        self.logs = self.large.workdir / "bench"
        self.logs.mkdir()
        self.ports: dict[str, int] = {}
        self.rate_hint: dict[str, float] = {}

    # ---- set-up ---------------------------------------------------------------------------

    def set_up(self) -> None:
        ensure_wrk()
        self.log("starting two stacks (Procfile under honcho) ...")
        with ThreadPoolExecutor(2) as pool:
            for future in [pool.submit(start_stack, self.large), pool.submit(start_stack, self.small, SMALL_STACK)]:
                future.result()
        self.log(f"people, listings and chats through the API ({self.sizes.chats} chats) ...")
        self.people = asyncio.run(populate(self.large.gateway, self.sizes.realtors, self.sizes.chats, self.sizes.chats))
        self.small_people = asyncio.run(populate(self.small.gateway, 3, 10, 0))
        self.log(f"seeding {self.sizes.large:,} and {self.sizes.small:,} listings and open requests ...")
        asyncio.run(self._seed(self.large, self.people, self.sizes.large))
        asyncio.run(self._seed(self.small, self.small_people, self.sizes.small))
        self.probes = {
            "large": asyncio.run(self._probe(self.large, self.people)),
            "small": asyncio.run(self._probe(self.small, self.small_people)),
        }
        asyncio.run(self._fill_reader_chat())
        self.card_id = asyncio.run(self._active_listing(self.large))
        self._start_baselines()

    async def _seed(self, stack: Stack, people: Population, count: int) -> None:
        rates = json.loads(stack.env["CURRENCY_RATES"])
        realtor_ids = [user.id for user in people.realtors]
        buyer_ids = [user.id for user in people.buyers]
        await seed.copy_rows(
            stack.env["LISTINGS_DATABASE_URL"],
            "properties",
            seed.LISTING_COLUMNS,
            seed.listings(count, realtor_ids, rates),
        )
        await seed.copy_rows(
            stack.env["REQUESTS_DATABASE_URL"],
            "search_requests",
            seed.REQUEST_COLUMNS,
            seed.buyer_requests(count, buyer_ids, rates),
        )

    async def _probe(self, stack: Stack, people: Population) -> Probe:
        return await open_probe(
            stack.gateway, people.realtors[0], people.probe_buyer, stack.env["REQUESTS_DATABASE_URL"]
        )

    async def _fill_reader_chat(self) -> None:
        """20 messages in the first chat, so its history page is a full one (both sides, under the rate limit)."""
        chat = self.people.chats[0]
        for user in (chat.buyer, chat.seller):
            async with connect(f"{ws_url(self.large.gateway)}/chat/ws/{chat.id}?token={user.token}") as socket:
                acks = 0
                for index in range(10):
                    await socket.send(json.dumps({"type": "message", "text": f"Сообщение {index}"}))
                while acks < 10:
                    frame = json.loads(await asyncio.wait_for(socket.recv(), 10))
                    acks += frame["type"] == "ack"
                    if frame["type"] == "error":
                        raise BenchError(f"chat refused a message: {frame}")

    async def _active_listing(self, stack: Stack) -> int:
        connection = await asyncpg.connect(plain_url(stack.env["LISTINGS_DATABASE_URL"]))
        try:
            found = await connection.fetchval(
                "SELECT id FROM properties WHERE status = 'active' ORDER BY id OFFSET $1 LIMIT 1", self.sizes.large // 2
            )
        finally:
            await connection.close()
        return int(found)

    def _start_baselines(self) -> None:
        self.log("starting the baselines: hello apps, Traefik, bare relay ...")
        for name in ("fastapi", "starlette", "traefik", "traefik_auth", "traefik_admin", "relay_a", "relay_b"):
            self.ports[name] = free_port()
        hello = {"fastapi": "benchmarks.apps:fastapi_hello", "starlette": "benchmarks.apps:starlette_hello"}
        for name, app in hello.items():
            process = uvicorn(name, app, self.ports[name], "auth", self.logs)
            self.processes.append(process)
            process.wait_until_answers(f"http://127.0.0.1:{self.ports[name]}/hello")
        relay_env = {
            "BENCH_RELAY_REDIS_URL": self.large.env["REDIS_URL"],
            "BENCH_RELAY_CHANNEL": f"bench-relay-{self.large.run_id}",
        }
        for name in ("relay_a", "relay_b"):
            process = uvicorn(name, "benchmarks.apps:bare_relay", self.ports[name], "chat_a", self.logs, relay_env)
            self.processes.append(process)
            process.wait_until_answers(f"http://127.0.0.1:{self.ports[name]}/health")
        traefik = Process(
            "traefik", [str(BIN / "traefik"), f"--configFile={self._traefik_config()}"], self.logs, self.large.env
        )
        self.processes.append(traefik)
        traefik.wait_until_answers(f"http://127.0.0.1:{self.ports['traefik']}/hello")
        traefik.wait_until_answers(
            f"http://127.0.0.1:{self.ports['traefik_auth']}/hello", headers=self.people.buyers[0].headers
        )

    def _traefik_config(self) -> Path:
        """The gateway's own static configuration and routes, plus two routes to the hello app:
        one bare, one behind the gateway's forwardAuth, each on an entry point of its own."""
        directory = self.logs / "traefik"
        directory.mkdir()
        static: dict[str, Any] = yaml.safe_load((ROOT / "gateway" / "traefik.yml").read_text())
        web = static["entryPoints"]["web"]
        web["address"] = f"127.0.0.1:{self.ports['traefik']}"
        static["entryPoints"]["webauth"] = copy.deepcopy(web) | {"address": f"127.0.0.1:{self.ports['traefik_auth']}"}
        static["entryPoints"]["traefik"]["address"] = f"127.0.0.1:{self.ports['traefik_admin']}"
        static["providers"] = {"file": {"directory": str(directory / "dynamic"), "watch": False}}
        (directory / "dynamic").mkdir()
        (directory / "dynamic" / "gateway.yml").write_text((ROOT / "gateway" / "dynamic.yml").read_text())
        hello = {"loadBalancer": {"servers": [{"url": f"http://127.0.0.1:{self.ports['fastapi']}"}]}}
        routes = {
            "http": {
                "routers": {
                    "bench-hello": {"entryPoints": ["web"], "rule": "Path(`/hello`)", "service": "bench-hello"},
                    "bench-hello-auth": {
                        "entryPoints": ["webauth"],
                        "rule": "Path(`/hello`)",
                        "service": "bench-hello",
                        "middlewares": [GATEWAY_AUTH_MIDDLEWARE],
                    },
                },
                "services": {"bench-hello": hello},
            }
        }
        (directory / "dynamic" / "bench.yml").write_text(yaml.safe_dump(routes))
        path = directory / "traefik.yml"
        path.write_text(yaml.safe_dump(static, sort_keys=False))
        return path

    # ---- HTTP rows --------------------------------------------------------------------------

    def _wrk(self, url: str, headers: dict[str, str] | None = None) -> WrkResult:
        if self.sizes.warmup_seconds:
            run_wrk(url, self.sizes.warmup_seconds, headers=headers)
        return run_wrk(url, self.sizes.http_seconds, headers=headers)

    def http_round(self) -> None:
        large, buyer, seller = self.large, self.people.buyers[0], self.people.realtors[0]
        chat = self.people.chats[0]
        targets: dict[str, tuple[str, dict[str, str] | None]] = {
            "fastapi": (f"http://127.0.0.1:{self.ports['fastapi']}/hello", None),
            "starlette": (f"http://127.0.0.1:{self.ports['starlette']}/hello", None),
            "traefik": (f"http://127.0.0.1:{self.ports['traefik']}/hello", None),
            "traefik_auth": (f"http://127.0.0.1:{self.ports['traefik_auth']}/hello", buyer.headers),
            "me": (large.service_url("AUTH_PORT", "/users/me"), buyer.headers),
            "me_gateway": (f"{large.gateway}/users/me", buyer.headers),
            "card": (large.service_url("LISTINGS_PORT", f"/properties/{self.card_id}"), buyer.headers),
            "my_chats": (large.service_url("CHAT_A_PORT", "/chat/my_chats"), seller.headers),
            "chat_messages": (
                large.service_url("CHAT_A_PORT", f"/chat/chat_messages/{chat.id}?limit=20"),
                buyer.headers,
            ),
        }
        for index, query in enumerate(self.queries.values(), 1):
            path = f"/properties?{urlencode(query)}"
            targets[f"search_large_{index}"] = (large.service_url("LISTINGS_PORT", path), None)
            targets[f"search_small_{index}"] = (self.small.service_url("LISTINGS_PORT", path), None)
        got: dict[str, WrkResult] = {}
        for name, (url, headers) in targets.items():
            got[name] = self._wrk(url, headers)
            self.log(
                f"  {name:18s} {got[name].rps:9,.0f} rps  p99 {got[name].p99_ms:7.1f} ms  errors {got[name].errors}"
            )
        self._ratio("me_vs_fastapi", got["me"], got["fastapi"])
        self._ratio("me_vs_starlette", got["me"], got["starlette"])
        self._ratio("fastapi_vs_starlette", got["fastapi"], got["starlette"])
        self._ratio("verifier", got["traefik_auth"], got["traefik"])
        self._ratio("gateway", got["me_gateway"], got["me"])
        for key in ("card", "my_chats", "chat_messages"):
            self._ratio(key, got[key], got["fastapi"])
        for index in range(1, len(self.queries) + 1):
            self._ratio(f"search_scale_{index}", got[f"search_large_{index}"], got[f"search_small_{index}"])
            self._ratio(f"search_hello_{index}", got[f"search_large_{index}"], got["fastapi"])

    def _ratio(self, key: str, measured: WrkResult, baseline: WrkResult) -> None:
        """measured/baseline of successful answers; errors beyond 1% of the requests fail the row."""
        row = self.rows[key]
        runs = {"measured": measured, "baseline": baseline}
        erring = {name: run for name, run in runs.items() if run.errors}
        note = "; ".join(f"{name}: {run.error_kinds} of {run.requests}" for name, run in erring.items()) or None
        broken = any(run.errors > 0.01 * max(run.requests, 1) for run in runs.values())
        value = measured.rps / baseline.rps if baseline.rps else math.nan
        row.add(
            value,
            measured=measured.rps,
            baseline=baseline.rps,
            generator_cpu=measured.cpu_share,
            note=note and f"error answers ({note})",
            broken=broken,
        )

    # ---- chat --------------------------------------------------------------------------------

    def chat_round(self) -> None:
        chats = self.people.chats
        gateway = ws_url(self.large.gateway)
        targets = {
            "chat": (
                [
                    PairSpec(
                        f"{gateway}/chat/ws/{chat.id}?token={chat.buyer.token}",
                        f"{gateway}/chat/ws/{chat.id}?token={chat.seller.token}",
                    )
                    for chat in chats
                ],
                True,
                MAX_RATE_PER_CHAT * len(chats),
            ),
            "relay": (
                [
                    PairSpec(
                        f"ws://127.0.0.1:{self.ports['relay_a']}/ws/{chat.id}",
                        f"ws://127.0.0.1:{self.ports['relay_b']}/ws/{chat.id}",
                    )
                    for chat in chats
                ],
                False,
                self.sizes.relay_ceiling,
            ),
        }
        found: dict[str, tuple[float, StepResult | None]] = {}
        for name, (pairs, hello, ceiling) in targets.items():
            found[name] = self._highest_rate(name, pairs, hello, ceiling)
        chat_rate, chat_step = found["chat"]
        relay_rate_found, _ = found["relay"]
        share = generator_share(chat_step) if chat_step else None
        ceiling_note = None
        if chat_rate >= targets["chat"][2]:
            ceiling_note = f"reached the most the per-user rate limit lets {len(chats)} chats offer"
        self.rows["chat_vs_relay"].add(
            chat_rate / relay_rate_found if relay_rate_found else math.nan,
            measured=chat_rate,
            baseline=relay_rate_found,
            generator_cpu=share,
            note=ceiling_note,
        )
        self.rows["chat_rate"].add(chat_rate, measured=chat_rate, generator_cpu=share, note=ceiling_note)

    def _highest_rate(
        self, name: str, pairs: list[PairSpec], hello: bool, ceiling: float
    ) -> tuple[float, StepResult | None]:
        workers = SocketWorkers(
            [WorkerSpec(pairs=part, hello=hello) for part in split(pairs, self.sizes.socket_workers)]
        )
        steps = iter(range(1_000_000))
        try:
            workers.connect()

            def run(rate: float) -> StepResult:
                sizes = self.sizes
                # Long enough for ~200 messages, so a p99 is not just the slowest of a handful.
                seconds = min(max(sizes.step_seconds, 200 / rate), 3 * sizes.step_seconds)
                result = workers.step(next(steps), rate, seconds, sizes.drain_seconds, sizes.settle_seconds)
                self.log(
                    f"  {name:5s} {rate:8.0f} msg/s offered: sent {result.sent} received {result.received}"
                    f" p99 {result.p99_ms:7.1f} ms errors {result.errors}"
                    f" {'ok' if result.sustained(P99_BUDGET_MS) else 'over'}"
                )
                time.sleep(0.5)
                return result

            run(min(ceiling, self.sizes.rate_start) / 5)  # warm-up
            search = RateSearch(run, P99_BUDGET_MS, ceiling, floor=1.0, bisections=self.sizes.bisections)
            start = self.rate_hint.get(name, self.sizes.rate_start)
            rate, step = search.highest(start)
            if rate:
                self.rate_hint[name] = rate * 0.7
            return rate, step
        finally:
            workers.close()

    def memory_round(self) -> None:
        """Idle sockets on a fresh replica of chat (the Procfile's chat_a on a port of its own)."""
        replica = self.large.variant(CHAT_A_PORT=str(free_port()))
        replica.start("chat_a", wait_for=(replica.service_url("CHAT_A_PORT", "/ready"),))
        try:
            base = ws_url(replica.service_url("CHAT_A_PORT", "/chat/ws"))
            chats = self.people.chats
            count = self.sizes.idle_sockets
            urls = [
                f"{base}/{chats[i % len(chats)].id}?token={chats[i % len(chats)].buyer.token}" for i in range(count)
            ]
            pid = listening_pid(int(replica.env["CHAT_A_PORT"]))

            def hold(sockets: list[str]) -> SocketWorkers:
                workers = SocketWorkers([WorkerSpec(idle_urls=part) for part in split(sockets, 2)])
                workers.connect()
                return workers

            hold(urls[: max(2, count // 10)]).close()  # warm-up: the first sockets load what every socket uses
            time.sleep(1)
            before = rss_kib(pid)
            workers = hold(urls)
            time.sleep(2)
            opened = rss_kib(pid)
            workers.close()
            time.sleep(2)
            after = rss_kib(pid)
        finally:
            replica.close()
        per_socket = (opened - before) / count
        kept = (after - before) / count
        self.log(f"  idle sockets: {count} sockets, RSS {before} -> {opened} -> {after} KiB")
        self.rows["socket_kib"].add(per_socket, measured=per_socket)
        self.rows["socket_kept_kib"].add(kept, measured=kept)

    # ---- matching and events -----------------------------------------------------------------

    def matching_round(self) -> None:
        latencies: dict[str, list[float]] = {"small": [], "large": []}
        for _ in range(self.sizes.match_probes):
            for size in ("small", "large"):
                latencies[size].append(asyncio.run(visible_after(self.probes[size])))
        small, large = p99(latencies["small"]), p99(latencies["large"])
        self.log(f"  match visible p99: {large:.0f} ms at {self.sizes.large:,}, {small:.0f} ms at {self.sizes.small:,}")
        self.rows["match_p99"].add(large / small, measured=large, baseline=small)

    def outbox_round(self, round_index: int) -> None:
        count = self.sizes.outbox_events
        first = round_index * count * 2
        chats = self.people.chats
        exchange = f"{self.large.env['NAMESPACE']}.events"
        baseline = publisher_rate(
            self.large.env["RABBITMQ_URL"], exchange, message_sent_envelopes(chats, count, first), chat_replicas()
        )
        relayed = asyncio.run(
            relay_rate(self.large.env["CHAT_DATABASE_URL"], message_sent_envelopes(chats, count, first + count))
        )
        self.log(f"  outbox relay {relayed:,.0f} events/s, aio-pika {baseline:,.0f} events/s")
        self.rows["outbox"].add(relayed / baseline, measured=relayed, baseline=baseline)

    # ---- the run --------------------------------------------------------------------------------

    def run(self) -> list[Row]:
        started = time.monotonic()
        try:
            self.set_up()
            for round_index in range(self.sizes.rounds):
                self.log(f"round {round_index + 1} of {self.sizes.rounds}")
                rounds: dict[str, Callable[[], None]] = {
                    "http": self.http_round,
                    "chat": self.chat_round,
                    "memory": self.memory_round,
                    "matching": self.matching_round,
                    "outbox": partial(self.outbox_round, round_index),
                }
                for group in self.groups:
                    rounds[group]()
        finally:
            self.tear_down()
        rows = list(self.rows.values())
        meta = {
            "finished_at": datetime.now(UTC).isoformat(),
            "seconds": round(time.monotonic() - started),
            "machine": {"cpus": CPUS, "python": platform.python_version(), "platform": platform.platform()},
            "sizes": asdict(self.sizes),
            "groups": self.groups,
            "p99_budget_ms": P99_BUDGET_MS,
        }
        write_json(self.output, rows, meta)
        return rows

    def tear_down(self) -> None:
        for process in reversed(self.processes):
            process.stop()
        # The logs outlive the run's directories: var/bench/logs/<stack>/ (replaced by the next run).
        logs = self.output.parent / "logs"
        shutil.rmtree(logs, ignore_errors=True)
        for name, stack in (("large", self.large), ("small", self.small)):
            for honcho in stack.processes:
                stack.stop(honcho)
            shutil.copytree(stack.workdir, logs / name, ignore=shutil.ignore_patterns("keys", "secrets", "media"))
        for stack in (self.large, self.small):
            try:
                stack.destroy()
            except Exception as error:  # the other stack must still go
                self.log(f"could not remove stack {stack.run_id}: {error}")


def chat_replicas() -> int:
    """How many chat processes the Procfile runs: each relays the chat outbox."""
    return sum("chat_service.main" in " ".join(procfile_command(name)) for name in procfile_processes())


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(0.99 * len(ordered)) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="every row once on tiny sizes (seconds, not minutes)")
    parser.add_argument("--rounds", type=int, help="rounds (default: 3, smoke: 1)")
    parser.add_argument("--output", type=Path, default=RESULTS, help=f"JSON results (default: {RESULTS})")
    parser.add_argument("--markdown", type=Path, metavar="RESULTS", help="print a results.json as Markdown and exit")
    parser.add_argument("--only", help=f"comma-separated groups of rows: {','.join(GROUPS)} (default: all)")
    parser.add_argument(
        "--set", action="append", default=[], metavar="SIZE=VALUE", help="override one size, e.g. --set chats=200"
    )
    args = parser.parse_args()
    if args.markdown:
        print(markdown_table(json.loads(args.markdown.read_text())))
        return
    raise_open_files_limit()
    sizes = SMOKE if args.smoke else FULL
    if args.rounds:
        sizes = replace(sizes, rounds=args.rounds)
    kinds: dict[str, Callable[[str], Any]] = {field.name: field.type for field in fields(Sizes)}  # type: ignore[misc]
    for override in args.set:
        name, _, value = override.partition("=")
        if name not in kinds:
            parser.error(f"no size {name!r}; sizes: {', '.join(kinds)}")
        sizes = replace(sizes, **{name: kinds[name](value)})
    groups = args.only.split(",") if args.only else None
    if groups and not set(groups) <= set(GROUPS):
        parser.error(f"--only takes {', '.join(GROUPS)}")
    rows = Suite(sizes, args.output, groups).run()
    print()
    print(render_table(rows))
    print(f"\nwritten to {args.output}")
