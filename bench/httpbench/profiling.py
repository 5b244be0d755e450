"""Profiles of a server under load: py-spy samples the granian worker, then a text summary.

The raw output (``.collapsed``: one stack per line, folded, with its sample count) opens in any
flame-graph viewer (speedscope.app imports it, ``flamegraph.pl`` renders it); the summary lists
where the samples fall: by function (self and inclusive), and by package.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*?)(?::\d+)?\)$")


def py_spy() -> str:
    found = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(found).exists():
        raise SystemExit("py-spy is missing: pip install py-spy (nox -s bench installs it)")
    return found


def record(pid: int, seconds: float, output: Path, rate: int = 250) -> subprocess.Popen:
    """Start sampling ``pid`` and its subprocesses (granian's workers) for ``seconds``; returns the py-spy process.

    Only the thread holding the GIL is sampled: a thread waiting for PostgreSQL, the socket or the
    GIL itself costs no CPU, and would otherwise show as time in the call it waits in."""
    command = [
        py_spy(),
        "record",
        "--pid",
        str(pid),
        "--subprocesses",
        "--rate",
        str(rate),
        "--duration",
        str(max(1, round(seconds))),
        "--format",
        "raw",
        "--output",
        str(output),
        "--nonblocking",
        "--gil",
    ]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def short_file(path: str) -> str:
    """``.../site-packages/pyramid/router.py`` and ``.../src/kinto/core/x.py`` as ``pyramid/router.py``, ``kinto/core/x.py``."""
    for marker in ("site-packages/", "/src/", "/lib/python3."):
        if marker in path:
            path = path.split(marker, 1)[1]
            if marker == "/lib/python3.":
                path = "stdlib/" + path.split("/", 1)[-1]
    return path


def package_of(path: str) -> str:
    parts = short_file(path).split("/")
    if parts[0] in ("core", "server") and len(parts) > 1:
        # py-spy names editable sources from below the namespace: core/x.py is kinto/core/x.py.
        parts = ["kinto", *parts]
    if parts[0] == "kinto" and len(parts) > 2:
        return "/".join(parts[:3]).removesuffix(".py")
    if parts[0] == "stdlib" and len(parts) > 1:
        return "stdlib/" + parts[1].removesuffix(".py")
    return parts[0].removesuffix(".py")


def parse(text: str) -> list[tuple[list[tuple[str, str]], int]]:
    """Stacks as lists of (function, file), outermost first, with their sample counts."""
    stacks = []
    for line in text.splitlines():
        stack_text, _, count = line.rpartition(" ")
        if not stack_text or not count.isdigit():
            continue
        frames = []
        for frame in stack_text.split(";"):
            match = FRAME.match(frame)
            if frame.startswith("process ") or not match:
                continue
            frames.append((match["function"], short_file(match["file"])))
        if frames:
            stacks.append((frames, int(count)))
    return stacks


def summarize(text: str, title: str, top: int = 25) -> str:
    """Markdown: samples by function (self, inclusive) and by package (self)."""
    stacks = parse(text)
    total = sum(count for _, count in stacks) or 1
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    packages: Counter[str] = Counter()
    for frames, count in stacks:
        function, file = frames[-1]
        own[f"{function} ({file})"] += count
        packages[package_of(file)] += count
        for name in {f"{function} ({file})" for function, file in frames}:
            inclusive[name] += count

    def rows(counter: Counter[str]) -> list[str]:
        return [f"| {count * 100 / total:.1f}% | `{name}` |" for name, count in counter.most_common(top)]

    lines = [
        f"# {title}",
        "",
        f"{total:,} samples of the thread holding the GIL (py-spy --gil: Python's own CPU time, not the waits).",
        "",
    ]
    lines += ["## By package (self time)", "", "| share | package |", "|--:|---|", *rows(packages), ""]
    lines += ["## By function, self time", "", "| share | function |", "|--:|---|", *rows(own), ""]
    lines += ["## By function, inclusive time", "", "| share | function |", "|--:|---|", *rows(inclusive), ""]
    return "\n".join(lines)


class ActiveQuerySampler:
    """Samples ``pg_stat_activity`` for the queries running in the databases of a run: where PostgreSQL's time goes.

    py-spy only sees Python; a query that runs long shows up here in proportion to the time it is active.
    """

    def __init__(self, admin_url: str, database_prefix: str, interval: float = 0.005) -> None:
        import threading

        self.admin_url = admin_url
        self.database_prefix = database_prefix
        self.interval = interval
        self.samples: Counter[str] = Counter()
        self.rounds = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> ActiveQuerySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        import psycopg

        statement = (
            "SELECT query FROM pg_stat_activity WHERE state = 'active' AND datname LIKE %s AND pid <> pg_backend_pid()"
        )
        with psycopg.connect(self.admin_url, autocommit=True) as connection:
            while not self._stop.wait(self.interval):
                rows = connection.execute(statement, (self.database_prefix + "%",)).fetchall()
                self.rounds += 1
                for (query,) in rows:
                    self.samples[" ".join(query.split())[:400]] += 1

    def summary(self, top: int = 15) -> str:
        """Markdown: the queries seen active most often, with the share of samples where each was running."""
        lines = [
            "## PostgreSQL: queries seen running (pg_stat_activity)",
            "",
            f"{self.rounds:,} samples every {self.interval * 1000:.0f} ms; share: how often the query was running "
            "(several may run at once).",
            "",
            "| share | query |",
            "|--:|---|",
        ]
        for query, count in self.samples.most_common(top):
            escaped = query.replace("|", "\\|")
            lines.append(f"| {count * 100 / max(1, self.rounds):.1f}% | `{escaped}` |")
        return "\n".join(lines) + "\n"
