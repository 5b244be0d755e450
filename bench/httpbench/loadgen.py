"""wrk as the load generator: one thread per CPU it is pinned to, never on the server's CPU.

``ensure_wrk`` installs Debian's wrk when it is missing (the session runs as root here). Each run
writes a Lua script (a prelude of constants, the workload's script, then ``lua/report.lua``), runs
wrk under ``taskset``, and returns its figures with the CPU time used by wrk and by the server's
processes, which is how a run shows that the generator was not the bottleneck.
"""

from __future__ import annotations

import dataclasses
import os
import resource
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from .workloads import Workload

LUA = Path(__file__).resolve().parent.parent / "lua"
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class LoadSettings:
    """How wrk drives every server (identical for all of them)."""

    duration: float
    warmup: float
    connections: int
    threads: int
    cpu: str  # taskset list, e.g. "1"
    max_other_cpu: float = 1.0  # a run during which other jobs used more of the server CPU is measured again...
    retries: int = 0  # ...up to this many times
    database_marker: str | None = None  # PostgreSQL backends whose title holds this serve the run
    min_cpu_speed: float = (
        0.0  # a run whose server CPU ran slower than this share of its fastest probe is measured again
    )


@dataclass(frozen=True)
class RunResult:
    """One wrk run's figures."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    status_errors: int  # answers other than 2xx/3xx
    socket_errors: int
    precondition_failed: int  # 412s (PATCH workload)
    sub_failures: int  # failed sub-requests inside 200 batch answers
    empty_answers: int  # writes that found nothing to act on (plural DELETE of a group already gone)
    generator_cpu: float  # wrk's CPU seconds / wall seconds (1.0 = one core busy)
    server_cpu: float  # same for the server's processes
    database_cpu: float  # same for the PostgreSQL backends serving the run's databases (on any CPU)
    other_cpu: float  # time of the server's CPUs used by other jobs (neither the server nor PostgreSQL) / wall
    statuses: dict[int, int]  # answers by status, when the workload counts them
    retried: int = 0  # times this measurement was repeated because other jobs took the server CPU
    probe_ms: float = 0.0  # the slower of the CPU speed probes just before and after the run (``cpu_probe``)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def ensure_wrk() -> str:
    """Path of wrk, installing Debian's package first if needed."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0:
        raise SystemExit("wrk is missing and installing it needs root: apt-get install -y wrk")
    install = ["apt-get", "install", "-y", "-q", "wrk"]
    if subprocess.run(install, stdout=subprocess.DEVNULL, check=False).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], stdout=subprocess.DEVNULL, check=True)
        subprocess.run(install, stdout=subprocess.DEVNULL, check=True)
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("apt-get installed wrk but it is not on PATH")
    return found


def wrk_version(wrk: str) -> str:
    output = subprocess.run([wrk, "--version"], capture_output=True, text=True, check=False).stdout
    return output.split("[")[0].replace("wrk ", "").strip() or "unknown"


def lua_literal(value: str | int) -> str:
    """A Lua constant: a number, or a double-quoted string."""
    if isinstance(value, int):
        return str(value)
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def write_script(workload: Workload, folder: Path) -> Path:
    """The complete wrk script of a workload."""
    lines = [f"wrk.method = {lua_literal(workload.method)}", f"wrk.path = {lua_literal(workload.path)}"]
    if workload.body is not None:
        lines.append(f"wrk.body = {lua_literal(workload.body)}")
    lines += [f"wrk.headers[{lua_literal(name)}] = {lua_literal(value)}" for name, value in workload.headers.items()]
    params = ", ".join(f"[{lua_literal(key)}] = {lua_literal(value)}" for key, value in workload.params.items())
    lines.append(f"params = {{{params}}}")
    lines.append(f"count_statuses = {'true' if workload.count_statuses else 'false'}")
    parts = ["\n".join(lines)]
    parts += [(LUA / name).read_text() for name in workload.lua]
    parts.append((LUA / "report.lua").read_text())
    script = folder / f"{workload.name}.lua"
    script.write_text("\n\n".join(parts) + "\n")
    return script


@dataclass(frozen=True)
class CpuSnapshot:
    """Cumulated CPU seconds at one instant."""

    server: float  # the server's process tree
    database: dict[int, float]  # per PostgreSQL backend serving this run's databases (on any CPU)
    busy: float  # the server CPUs' non-idle time, whoever used it


def cpu_snapshot(server_pid: int, server_cpus: set[int], database_marker: str | None) -> CpuSnapshot:
    children: dict[int, list[int]] = {}
    times: dict[int, float] = {}
    database: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                name, _, rest = stat.read().partition(" (")[2].rpartition(")")
        except OSError:
            continue
        fields = rest.split()
        pid, seconds = int(entry), (int(fields[11]) + int(fields[12])) / TICKS
        children.setdefault(int(fields[1]), []).append(pid)
        times[pid] = seconds
        if database_marker and name == "postgres" and database_marker in _command_line(pid):
            database[pid] = seconds
    server, pending = 0.0, [server_pid]
    while pending:
        pid = pending.pop()
        server += times.get(pid, 0.0)
        pending.extend(children.get(pid, []))
    return CpuSnapshot(server, database, busy_cpu_seconds(server_cpus))


def _command_line(pid: int) -> str:
    """A PostgreSQL backend's title names its database: ``postgres: user database host(port) state``."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            return cmdline.read().decode(errors="replace")
    except OSError:
        return ""


def cpu_list(text: str) -> set[int]:
    """taskset's list syntax: ``0``, ``0,1``, ``0-3``."""
    cpus: set[int] = set()
    for part in text.split(","):
        first, _, last = part.partition("-")
        cpus.update(range(int(first), int(last or first) + 1))
    return cpus


def busy_cpu_seconds(cpus: set[int]) -> float:
    """Time the given CPUs spent on anything but idle and I/O wait, from /proc/stat."""
    total = 0
    with open("/proc/stat") as stat:
        for line in stat:
            name, *fields = line.split()
            if name.startswith("cpu") and name[3:].isdigit() and int(name[3:]) in cpus:
                values = [int(value) for value in fields[:8]]
                total += sum(values) - values[3] - values[4]
    return total / TICKS


#: A fixed piece of pure-Python work: its duration on the server CPU, idle, measures how fast that CPU
#: runs now. This shared VM's CPU slows down for minutes at a time (both servers at half their rate)
#: while neither the server's nor other jobs' CPU time shows it: a probe does.
PROBE = """
import time
best = None
for _ in range(3):
    started = time.perf_counter()
    total = 0
    for number in range(300_000):
        total += number * number
    elapsed = time.perf_counter() - started
    best = elapsed if best is None else min(best, elapsed)
print(best * 1000)
"""


def cpu_probe(cpu: str) -> float:
    """Milliseconds the :data:`PROBE` loop takes on ``cpu`` (the best of 3), in a process pinned there."""
    command = ["taskset", "-c", cpu, sys.executable, "-c", PROBE]
    return float(subprocess.run(command, capture_output=True, text=True, check=True).stdout)


def run_wrk(
    wrk: str,
    url: str,
    script: Path,
    script_args: list[str],
    seconds: float,
    settings: LoadSettings,
    server_pid: int,
    server_cpu_list: str,
) -> RunResult:
    """One wrk run against ``url`` for ``seconds``, with the CPU use of wrk and of the server."""
    command = [
        "taskset",
        "-c",
        settings.cpu,
        wrk,
        "-t",
        str(settings.threads),
        "-c",
        str(settings.connections),
        "-d",
        f"{max(1, round(seconds))}s",
        "--timeout",
        "30s",
        "-s",
        str(script),
        url,
    ]
    if script_args:
        command += ["--", *script_args]
    server_cpus = cpu_list(server_cpu_list)
    probe_before = cpu_probe(server_cpu_list)
    before = cpu_snapshot(server_pid, server_cpus, settings.database_marker)
    # Only waited-for children count in RUSAGE_CHILDREN: the running servers do not, wrk does once reaped.
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    after = cpu_snapshot(server_pid, server_cpus, settings.database_marker)
    probe_ms = max(probe_before, cpu_probe(server_cpu_list))
    generator_seconds = (children_after.ru_utime + children_after.ru_stime) - (
        children_before.ru_utime + children_before.ru_stime
    )
    server_seconds = after.server - before.server
    database_seconds = sum(seconds - before.database.get(pid, 0.0) for pid, seconds in after.database.items())
    # What the server CPUs did besides the server and PostgreSQL: other jobs of this shared machine.
    # A lower bound: PostgreSQL's time is subtracted whichever CPU it ran on.
    other_seconds = (after.busy - before.busy) - server_seconds - database_seconds
    result = parse_report(
        completed.stdout,
        completed.stderr,
        CpuShares(
            generator_seconds / wall, server_seconds / wall, database_seconds / wall, max(0.0, other_seconds) / wall
        ),
    )
    return dataclasses.replace(result, probe_ms=probe_ms)


@dataclass(frozen=True)
class CpuShares:
    """CPU seconds per wall second during a run (1.0: one CPU busy)."""

    generator: float
    server: float
    database: float
    other: float


def parse_report(stdout: str, stderr: str, cpu: CpuShares) -> RunResult:
    """Read the ``BENCH-RESULT`` line that ``lua/report.lua`` prints."""
    line = next((line for line in stdout.splitlines() if line.startswith("BENCH-RESULT ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no result:\n{stdout}\n{stderr}")
    values = dict(pair.split("=", 1) for pair in line.split()[1:])
    statuses_text = values.pop("statuses", "")
    numbers = {key: int(float(value)) for key, value in values.items()}
    statuses = {
        int(status): int(count) for status, count in (part.split(":") for part in statuses_text.split(",") if part)
    }
    return RunResult(
        requests=numbers["requests"],
        seconds=numbers["duration_us"] / 1e6,
        p50_ms=numbers["p50_us"] / 1000,
        p99_ms=numbers["p99_us"] / 1000,
        status_errors=numbers["status_errors"],
        socket_errors=sum(numbers[key] for key in ("connect_errors", "read_errors", "write_errors", "timeouts")),
        precondition_failed=numbers["precondition_failed"],
        sub_failures=numbers["sub_failures"],
        empty_answers=numbers["empty_answers"],
        generator_cpu=cpu.generator,
        server_cpu=cpu.server,
        database_cpu=cpu.database,
        other_cpu=cpu.other,
        statuses=statuses,
    )
