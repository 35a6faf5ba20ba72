"""What the suite needs from the machine: wrk, processes started with the Procfile's
uvicorn flags, and per-process CPU and memory read from /proc."""

import os
import re
import resource
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.prefix) / "bin"
CPUS = os.cpu_count() or 1
TICKS = os.sysconf("SC_CLK_TCK")
PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024


class BenchError(RuntimeError):
    """The suite cannot measure something; the message says what to do."""


def raise_open_files_limit() -> None:
    """Thousands of sockets: the soft limit up to the hard one (children inherit it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def ensure_wrk() -> str:
    """Debian's wrk, installed with apt-get when missing."""
    found = shutil.which("wrk")
    if found:
        return found
    print("wrk is missing: installing it with apt-get (Debian package 'wrk')", flush=True)
    commands = [["apt-get", "install", "-y", "-qq", "wrk"], ["apt-get", "update", "-qq"]]
    install = subprocess.run(commands[0], capture_output=True, check=False)
    if install.returncode != 0:
        subprocess.run(commands[1], capture_output=True, check=False)
        install = subprocess.run(commands[0], capture_output=True, check=False)
    found = shutil.which("wrk")
    if found is None:
        raise BenchError(
            "wrk (the HTTP load generator) is not installed and `apt-get install -y wrk` failed "
            f"({install.stderr.decode(errors='replace').strip()[-300:]}); install it as root and run again"
        )
    return found


@dataclass(frozen=True)
class WrkResult:
    rps: float  # answers with a 2xx/3xx status per second
    requests: int
    errors: int  # non-2xx/3xx answers and socket errors
    error_kinds: str  # what they were, for the table's notes
    p99_ms: float
    cpu_share: float  # the generator's CPU time over all cores' time


_DURATION_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _parse_wrk(output: str) -> tuple[int, float, dict[str, int], float]:
    total = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", output)
    if total is None:
        raise BenchError(f"unexpected wrk output:\n{output}")
    requests = int(total.group(1))
    seconds = float(total.group(2)) * _DURATION_UNITS[total.group(3)] / 1000
    errors: dict[str, int] = {}
    if status := re.search(r"Non-2xx or 3xx responses: (\d+)", output):
        errors["non-2xx"] = int(status.group(1))
    if sockets := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output):
        kinds = ("connect", "read", "write", "timeout")
        errors |= {kind: int(value) for kind, value in zip(kinds, sockets.groups(), strict=True) if int(value)}
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s|m)", output)
    p99_ms = float(p99.group(1)) * _DURATION_UNITS[p99.group(2)] if p99 else float("nan")
    return requests, seconds, errors, p99_ms


def run_wrk(
    url: str, seconds: float, *, headers: dict[str, str] | None = None, connections: int = 32, threads: int = 2
) -> WrkResult:
    """One wrk run (keep-alive, fixed connections; whole seconds, wrk's smallest unit).

    Its CPU time comes from the kernel's accounting of the child.
    """
    # A slow answer is a slow answer (it shows in p99), not an error: wrk's 2 s timeout is raised.
    duration = f"-d{max(1, round(seconds))}s"
    command = [ensure_wrk(), f"-t{threads}", f"-c{connections}", duration, "--timeout", "10s", "--latency"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    started = time.monotonic()
    process = subprocess.Popen([*command, url], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert process.stdout is not None
    output = process.stdout.read().decode(errors="replace")
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - started
    if process.returncode != 0:
        raise BenchError(f"wrk failed on {url}:\n{output}")
    requests, measured, kinds, p99_ms = _parse_wrk(output)
    errors = sum(kinds.values())
    cpu = usage.ru_utime + usage.ru_stime
    return WrkResult(
        rps=(requests - errors) / measured if measured else 0.0,
        requests=requests,
        errors=errors,
        error_kinds=", ".join(f"{kind} {count}" for kind, count in kinds.items()),
        p99_ms=p99_ms,
        cpu_share=cpu / (wall * CPUS),
    )


def _procfile() -> dict[str, str]:
    commands = {}
    for line in (ROOT / "Procfile").read_text().splitlines():
        name, sep, command = line.partition(":")
        if sep and not line.lstrip().startswith("#"):
            commands[name.strip()] = command
    return commands


def procfile_processes() -> list[str]:
    return list(_procfile())


def procfile_command(process: str) -> list[str]:
    """The Procfile's command of ``process``, split as a shell would (variables left unexpanded)."""
    command = _procfile().get(process)
    if command is None:
        raise BenchError(f"no process {process!r} in the Procfile")
    return shlex.split(command)


def uvicorn_flags(process: str) -> list[str]:
    """The uvicorn options of a Procfile process without its app, host, port and --factory."""
    words = procfile_command(process)
    if "uvicorn" not in words:
        raise BenchError(f"the Procfile's {process!r} does not run uvicorn: {' '.join(words)}")
    options = words[words.index("uvicorn") + 2 :]
    flags: list[str] = []
    skip_value = False
    for word in options:
        if skip_value:
            skip_value = False
        elif word in ("--host", "--port"):
            skip_value = True
        elif word != "--factory":
            flags.append(word)
    return flags


class Process:
    """A child process of the suite with its log in the run's directory; stopped by its own pid."""

    def __init__(self, name: str, command: list[str], log_dir: Path, env: dict[str, str] | None = None) -> None:
        self.name = name
        self.log = log_dir / f"{name}.log"
        with self.log.open("wb") as log:
            self.popen = subprocess.Popen(
                command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=os.environ | (env or {})
            )

    def wait_until_answers(self, url: str, within: float = 30.0, headers: dict[str, str] | None = None) -> None:
        deadline = time.monotonic() + within
        while True:
            if self.popen.poll() is not None:
                raise BenchError(f"{self.name} exited early; see {self.log}")
            try:
                if httpx.get(url, timeout=1, headers=headers).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise BenchError(f"{self.name} does not answer {url}; see {self.log}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()


def uvicorn(
    name: str, app: str, port: int, procfile_process: str, log_dir: Path, env: dict[str, str] | None = None
) -> Process:
    """``app`` (a factory) under exactly the uvicorn flags of a Procfile process."""
    command = [str(BIN / "uvicorn"), app, "--factory", "--host", "127.0.0.1", "--port", str(port)]
    return Process(name, [*command, *uvicorn_flags(procfile_process)], log_dir, env)


def listening_pid(port: int) -> int:
    """The process listening on 127.0.0.1:``port`` (a Procfile process execs its server, so this is it)."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as file:
            for line in file.readlines()[1:]:
                fields = line.split()
                local_port = int(fields[1].rpartition(":")[2], 16)
                if local_port == port and fields[3] == "0A":  # LISTEN
                    inodes.add(fields[9])
    wanted = {f"socket:[{inode}]" for inode in inodes}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            for descriptor in (entry / "fd").iterdir():
                if os.readlink(descriptor) in wanted:
                    return int(entry.name)
        except OSError:
            continue
    raise BenchError(f"no process listens on port {port}")


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/statm") as file:
        return int(file.read().split()[1]) * PAGE_KIB


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    with open(f"/proc/{pid}/stat") as file:
        fields = file.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / TICKS
