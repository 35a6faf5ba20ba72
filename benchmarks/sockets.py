"""WebSocket load from several processes: chat pairs (a sender and a receiver on different
replicas) at a fixed offered rate, and idle sockets held open.

Each worker process holds a share of the sockets and sends on a schedule
(open loop: a slow server does not slow the sender down). A message carries the
monotonic clock of its send (system-wide, so any process can read it) and the
receiver's latency is measured when its frame arrives.
"""

import asyncio
import contextlib
import json
import math
import multiprocessing
import resource
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

import uvloop
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.protocol import State

from benchmarks.system import CPUS, BenchError

PREFIX = "bench"


@dataclass(frozen=True)
class PairSpec:
    sender_url: str
    receiver_url: str


@dataclass(frozen=True)
class WorkerSpec:
    pairs: list[PairSpec] = field(default_factory=list)
    idle_urls: list[str] = field(default_factory=list)
    # The chat service greets with a `hello` frame naming its replica; the bare relay says nothing.
    hello: bool = True


@dataclass
class StepResult:
    rate: float
    sent: int = 0
    received: int = 0
    errors: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    send_seconds: float = 0.0
    wall_seconds: float = 0.0
    cpu_seconds: float = 0.0
    closes: list[str] = field(default_factory=list)

    @property
    def p99_ms(self) -> float:
        if not self.latencies_ms:
            return math.inf
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, math.ceil(0.99 * len(ordered)) - 1)]

    @property
    def achieved(self) -> float:
        return self.sent / self.send_seconds if self.send_seconds else 0.0

    def sustained(self, p99_budget_ms: float) -> bool:
        return (
            self.errors == 0
            and self.sent > 0
            and self.received >= self.sent
            and self.achieved >= 0.95 * self.rate
            and self.p99_ms <= p99_budget_ms
        )

    def merge(self, other: "StepResult") -> None:
        self.sent += other.sent
        self.received += other.received
        self.errors += other.errors
        self.latencies_ms += other.latencies_ms
        self.send_seconds = max(self.send_seconds, other.send_seconds)
        self.wall_seconds = max(self.wall_seconds, other.wall_seconds)
        self.cpu_seconds += other.cpu_seconds
        self.closes += other.closes


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass
class _Pair:
    spec: PairSpec
    sender: ClientConnection | None = None
    receiver: ClientConnection | None = None
    readers: list["asyncio.Task[None]"] = field(default_factory=list)

    @property
    def open(self) -> bool:
        return all(end is not None and end.state is State.OPEN for end in (self.sender, self.receiver))


class _Worker:
    def __init__(self, spec: WorkerSpec) -> None:
        self.spec = spec
        self.pairs = [_Pair(pair) for pair in spec.pairs]
        self.idle: list[ClientConnection] = []
        self.gate = asyncio.Semaphore(16)
        self.step = -1
        self.next_chat = 0
        self.result = StepResult(rate=0)

    async def _open(self, url: str) -> tuple[ClientConnection, str | None]:
        socket = await connect(url, compression=None, open_timeout=20, ping_interval=None, max_queue=None)
        if not self.spec.hello:
            return socket, None
        frame = json.loads(await asyncio.wait_for(socket.recv(), 20))
        if frame.get("type") != "hello":
            await socket.close()
            raise BenchError(f"expected a hello frame, got {frame}")
        return socket, str(frame["replica"])

    async def _open_pair(self, pair: _Pair) -> None:
        """Both ends, the receiver on another replica than the sender (the hello frame names it)."""
        async with self.gate:
            for task in pair.readers:
                task.cancel()
            for end in (pair.sender, pair.receiver):
                if end is not None:
                    await end.close()
            sender, replica = await self._open(pair.spec.sender_url)
            for _ in range(20):
                receiver, other = await self._open(pair.spec.receiver_url)
                if replica is None or other != replica:
                    break
                await receiver.close()
            else:
                raise BenchError(f"the gateway kept routing both ends of a chat to {replica}")
            pair.sender, pair.receiver = sender, receiver
            pair.readers = [
                asyncio.create_task(self._read(sender, measure=False)),
                asyncio.create_task(self._read(receiver, measure=True)),
            ]

    async def _read(self, socket: ClientConnection, *, measure: bool) -> None:
        try:
            async for raw in socket:
                frame = json.loads(raw)
                if frame.get("type") == "error":  # e.g. "unavailable": the message was not stored
                    self.result.errors += 1
                if not measure or frame.get("type") != "message":
                    continue
                words = str(frame.get("text", "")).split(" ")
                if len(words) == 3 and words[0] == PREFIX and int(words[1]) == self.step:
                    self.result.received += 1
                    self.result.latencies_ms.append((time.monotonic_ns() - int(words[2])) / 1e6)
        except ConnectionClosed as closed:
            self.result.errors += 1
            self.result.closes.append(f"{closed.rcvd.code if closed.rcvd else 'none'}")

    async def connect_all(self) -> int:
        """Opens every socket; on later calls, reopens the pairs the target closed (say, when overloaded)."""

        async def idle(url: str) -> None:
            async with self.gate:
                socket, _ = await self._open(url)
                self.idle.append(socket)

        await asyncio.gather(
            *(self._open_pair(pair) for pair in self.pairs if not pair.open),
            *(idle(url) for url in self.spec.idle_urls[len(self.idle) :]),
        )
        return 2 * len(self.pairs) + len(self.idle)

    async def run_step(self, step: int, rate: float, seconds: float, drain: float, settle: float) -> StepResult:
        """Sends ``rate`` messages a second for ``seconds``, round robin over the chats.

        Waits ``drain`` seconds at most for the last ones to arrive (later ones are far over
        any budget anyway), then up to ``settle`` more until the target has caught up, so a
        step never starts on the backlog of an overloaded one. Messages missing after that
        count as lost.
        """
        await self.connect_all()
        self.step, self.result = step, StepResult(rate=rate)
        total = max(1, round(rate * seconds))
        cpu_before = _cpu()
        started = time.monotonic()
        while self.result.sent + self.result.errors < total:
            due = min(total, int((time.monotonic() - started) * rate) + 1)
            while self.result.sent + self.result.errors < due:
                sender = self.pairs[self.next_chat % len(self.pairs)].sender
                self.next_chat += 1
                text = f"{PREFIX} {step} {time.monotonic_ns()}"
                try:
                    assert sender is not None
                    await sender.send(json.dumps({"type": "message", "text": text, "client_id": str(uuid.uuid4())}))
                    self.result.sent += 1
                except ConnectionClosed:
                    self.result.errors += 1
            await asyncio.sleep(0.002)
        self.result.send_seconds = time.monotonic() - started
        deadline = time.monotonic() + drain
        while self.result.received < self.result.sent and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        self.result.wall_seconds = time.monotonic() - started
        self.result.cpu_seconds = _cpu() - cpu_before
        result = self.result
        received = result.received
        deadline = time.monotonic() + settle
        while result.received < result.sent and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        result.errors += result.sent - result.received
        result.received = received  # what arrived within the step; the rest was late or lost
        return result

    async def close_all(self) -> None:
        sockets = list(self.idle)
        for pair in self.pairs:
            for task in pair.readers:
                task.cancel()
            sockets += [end for end in (pair.sender, pair.receiver) if end is not None]
        await asyncio.gather(*(socket.close() for socket in sockets), return_exceptions=True)
        self.pairs, self.idle = [], []


def _serve(spec: WorkerSpec, pipe: Connection) -> None:
    async def main() -> None:
        worker = _Worker(spec)
        while True:
            command, *args = pipe.recv()
            try:
                if command == "connect":
                    pipe.send(("ok", await worker.connect_all()))
                elif command == "step":
                    pipe.send(("ok", await worker.run_step(*args)))
                elif command == "close":
                    await worker.close_all()
                    pipe.send(("ok", None))
                    return
            except Exception as error:
                pipe.send(("error", f"{type(error).__name__}: {error}"))

    uvloop.run(main())


class SocketWorkers:
    """Several worker processes driven in lock step by the suite."""

    def __init__(self, specs: list[WorkerSpec]) -> None:
        context = multiprocessing.get_context("spawn")
        self._pipes: list[Connection] = []
        self._processes: list[Any] = []
        for spec in specs:
            ours, theirs = context.Pipe()
            process = context.Process(target=_serve, args=(spec, theirs), daemon=True)
            process.start()
            self._pipes.append(ours)
            self._processes.append(process)

    def _all(self, *command: Any, timeout: float = 300) -> list[Any]:
        for pipe in self._pipes:
            pipe.send(command)
        answers = []
        for pipe in self._pipes:
            if not pipe.poll(timeout):
                raise BenchError(f"a socket worker did not answer {command[0]!r} within {timeout} s")
            status, value = pipe.recv()
            if status != "ok":
                raise BenchError(f"socket worker failed on {command[0]!r}: {value}")
            answers.append(value)
        return answers

    def connect(self) -> int:
        return sum(self._all("connect"))

    def step(self, step: int, rate: float, seconds: float, drain: float, settle: float) -> StepResult:
        share = rate / len(self._pipes)
        merged = StepResult(rate=rate)
        for part in self._all("step", step, share, seconds, drain, settle):
            merged.merge(part)
        return merged

    def close(self) -> None:
        with contextlib.suppress(BenchError, OSError, EOFError):
            self._all("close", timeout=60)
        for process in self._processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()


def split(items: list[Any], parts: int) -> list[list[Any]]:
    return [items[index::parts] for index in range(parts)]


@dataclass
class RateSearch:
    """The highest offered rate a target sustains: doubling until it fails, then bisecting.

    A failed step is run once more before the rate counts as too high: on a shared
    machine one stall of a neighbour would otherwise end the search early.
    """

    step: Callable[[float], StepResult]
    p99_budget_ms: float
    ceiling: float
    floor: float
    bisections: int

    def run(self, rate: float) -> StepResult:
        result = self.step(rate)
        return result if result.sustained(self.p99_budget_ms) else self.step(rate)

    def highest(self, start: float) -> tuple[float, StepResult | None]:
        passed: tuple[float, StepResult] | None = None
        failed: float | None = None
        rate = min(start, self.ceiling)
        while True:
            result = self.run(rate)
            if result.sustained(self.p99_budget_ms):
                passed = (rate, result)
                if failed is not None or rate >= self.ceiling:
                    break
                rate = min(rate * 2, self.ceiling)
            else:
                failed = rate
                if passed is not None:
                    break
                if rate / 2 < self.floor:
                    return 0.0, result
                rate /= 2
        assert passed is not None
        if failed is None:
            return passed
        low, high = passed[0], failed
        for _ in range(self.bisections):
            middle = (low + high) / 2
            result = self.run(middle)
            if result.sustained(self.p99_budget_ms):
                low, passed = middle, (middle, result)
            else:
                high = middle
        return passed


def generator_share(result: StepResult) -> float:
    return result.cpu_seconds / (result.wall_seconds * CPUS) if result.wall_seconds else 0.0
