"""Run the server's HTTP tests against a live Kinto 26.5.0 and a live ``kinto start`` of ours, and compare.

``nox -s side-by-side`` runs this script. Both servers start with the same
settings (those of ``packages/server/tests/conftest.py``: Basic Auth, its
secret, schema validation, the permissions endpoint, and ``kinto.plugins.flush``
so that each test starts empty) on the same backend (memory by default,
``--backend postgresql`` for a database of each server's own). The HTTP test
modules then run once per server, with ``KINTO_TEST_LIVE_URL`` pointing at it;
tests that need the application in process skip themselves there.

The report (stdout, and ``--report``, by default
``tests/side_by_side/results.md``) lists test by test where Kinto's answer
differs from what our tests expect, with the first line of the failure, and
counts what passes on both. A test that fails against our own live server is a
problem of the harness (or of our server when served), listed apart.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

from httpbench.servers import KINTO_VERSION, KintoReference  # noqa: E402 -- bench/ is not a package on the path

from kinto.core.testing.live import LiveServer, free_port  # noqa: E402

#: The server test modules that only speak HTTP to the application (their in-process tests skip themselves).
HTTP_MODULES = (
    "test_bad_input.py",
    "test_buckets.py",
    "test_cascade.py",
    "test_collections_and_groups.py",
    "test_flush.py",
    "test_history.py",
    "test_permissions_endpoint.py",
    "test_permissions_inheritance.py",
    "test_records.py",
    "test_schemas.py",
)
SECRET = "server-tests-secret"  # packages/server/tests/conftest.py
#: Both servers' settings (besides backends); the test modules whose extra settings these hold run live too.
LIVE_SETTINGS = {
    "kinto.userid_hmac_secret": SECRET,
    "multiauth.policies": "basicauth",
    "kinto.bucket_create_principals": "system.Authenticated",
    "kinto.experimental_collection_schema_validation": "true",
    "kinto.experimental_permissions_endpoint": "true",
    # flush empties the servers between tests; history is one of the plugins both servers have.
    "kinto.includes": "kinto.plugins.flush kinto.plugins.history",
}


@dataclass(frozen=True)
class Outcome:
    status: str  # passed, failed, skipped
    message: str = ""


def ini_text(distribution: str, port: int, storage_url: str | None) -> str:
    backend = "postgresql" if storage_url else "memory"
    lines = [
        "[server:main]",
        "use = egg:waitress#main",
        "host = 127.0.0.1",
        f"port = {port}",
        "",
        "[app:main]",
        f"use = egg:{distribution}",
        f"kinto.storage_backend = kinto.core.storage.{backend}",
        f"kinto.permission_backend = kinto.core.permission.{backend}",
        f"kinto.cache_backend = kinto.core.cache.{backend}",
    ]
    if storage_url:
        lines += [f"kinto.{kind}_url = {storage_url}" for kind in ("storage", "permission", "cache")]
    lines += [f"{key} = {value}" for key, value in LIVE_SETTINGS.items()]
    lines += [
        "",
        "[loggers]",
        "keys = root",
        "[handlers]",
        "keys = console",
        "[formatters]",
        "keys = generic",
        "[logger_root]",
        "level = WARNING",
        "handlers = console",
        "[handler_console]",
        "class = StreamHandler",
        "args = (sys.stderr,)",
        "level = NOTSET",
        "formatter = generic",
        "[formatter_generic]",
        "format = %(levelname)s %(name)s %(message)s",
        "",
    ]
    return "\n".join(lines)


def postgresql_database(name: str) -> str:
    """A fresh database ``<name>_<run id>`` of this run on the test server, dropped when the run ends; its URL."""
    from kinto.core.testing.postgresql import postgresql_test_database

    return postgresql_test_database(name, fresh=True)


class LiveProcess(LiveServer):
    """``kinto migrate`` then ``kinto start`` of one venv's ``kinto`` command on a free port."""

    def __init__(self, key: str, kinto: Path, folder: Path, distribution: str, storage_url: str | None) -> None:
        self.key = key
        self.port = free_port()
        self.ini = folder / f"{key}.ini"
        self.ini.write_text(ini_text(distribution, self.port, storage_url))
        if storage_url:
            subprocess.run(
                [str(kinto), "migrate", "--ini", str(self.ini)],
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.STDOUT,
            )
        super().__init__(
            [str(kinto), "start", "--ini", str(self.ini), "--port", str(self.port)],
            f"{self.url}/v1/__heartbeat__",
            log=folder / f"{key}.log",
            cwd=folder,
            name=key,
        )
        self.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def run_tests(url: str, junit: Path, selection: list[str]) -> dict[str, Outcome]:
    """Our server's HTTP tests against ``url``: each test's outcome by its id."""
    tests = ROOT / "packages" / "server" / "tests"
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "-q",
        "-rN",
        f"--junitxml={junit}",
        *(str(tests / name) for name in HTTP_MODULES),
        *selection,
    ]
    environment = {**os.environ, "KINTO_TEST_LIVE_URL": url, "KINTO_TEST_LIVE_SETTINGS": json.dumps(LIVE_SETTINGS)}
    subprocess.run(command, env=environment, cwd=ROOT, check=False, stdout=subprocess.DEVNULL)
    outcomes: dict[str, Outcome] = {}
    for case in ElementTree.parse(junit).getroot().iter("testcase"):
        module = case.get("classname", "").rsplit(".", 1)[-1]
        test = f"{module}::{case.get('name')}"
        failure = case.find("failure")
        if failure is None:
            failure = case.find("error")
        skipped = case.find("skipped")
        if failure is not None:
            outcomes[test] = Outcome("failed", _first_line(failure.get("message") or failure.text or ""))
        elif skipped is not None:
            outcomes[test] = Outcome("skipped", _first_line(skipped.get("message") or ""))
        else:
            outcomes[test] = Outcome("passed")
    return outcomes


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    line = lines[0] if lines else ""
    return line if len(line) <= 300 else line[:297] + "..."


def report(ours: dict[str, Outcome], kinto: dict[str, Outcome], backend: str) -> str:
    tests = sorted(set(ours) | set(kinto))
    run = [test for test in tests if ours.get(test, Outcome("skipped")).status != "skipped"]
    both = [
        test for test in run if ours[test].status == "passed" and kinto.get(test, Outcome("failed")).status == "passed"
    ]
    differ = [
        test for test in run if ours[test].status == "passed" and kinto.get(test, Outcome("failed")).status != "passed"
    ]
    harness = [test for test in run if ours[test].status != "passed"]
    skipped = [test for test in tests if test not in run]
    lines = [
        f"# Our server's HTTP tests against Kinto {KINTO_VERSION} ({date.today().isoformat()}, {backend})",
        "",
        "`nox -s side-by-side`: the tests of packages/server/tests that speak HTTP, run against a live Kinto "
        f"{KINTO_VERSION} and a live `kinto start` of ours, same settings and backend.",
        "",
        f"- run against both: {len(run)}; pass on both: **{len(both)}**; pass on ours and fail on Kinto: "
        f"**{len(differ)}**; fail on our live server: {len(harness)}",
        f"- not run live (they need the application in process: its registry, events or settings of their own): "
        f"{len(skipped)}",
        "",
    ]
    if differ:
        lines += ["## Where Kinto answers otherwise", "", "| test | Kinto's failure |", "|---|---|"]
        lines += [
            f"| `{test}` | {kinto.get(test, Outcome('failed', 'not run')).message.replace('|', '/')} |"
            for test in differ
        ]
        lines.append("")
    if harness:
        lines += ["## Failing against our own live server", "", "| test | failure |", "|---|---|"]
        lines += [f"| `{test}` | {ours[test].message.replace('|', '/')} |" for test in harness]
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("memory", "postgresql"), default="memory")
    parser.add_argument("--report", type=Path, default=ROOT / "tests" / "side_by_side" / "results.md")
    parser.add_argument("selection", nargs="*", help="extra pytest arguments, e.g. -k records")
    args = parser.parse_args(argv)

    reference = KintoReference()
    reference.install()
    ours_kinto = Path(sys.executable).parent / "kinto"
    outcomes: dict[str, dict[str, Outcome]] = {}
    with tempfile.TemporaryDirectory(prefix="side-by-side-") as temporary:
        folder = Path(temporary)
        for key, kinto, distribution in (
            ("ours", ours_kinto, "kinto-server"),
            ("kinto", reference.bin_dir() / "kinto", "kinto"),
        ):
            url = postgresql_database(f"kinto_side_by_side_{key}") if args.backend == "postgresql" else None
            server = LiveProcess(key, kinto, folder, distribution, url)
            try:
                print(f"{key}: {server.url}, running the HTTP tests...", flush=True)
                outcomes[key] = run_tests(server.url, folder / f"{key}.xml", args.selection)
            finally:
                server.stop()
    text = report(outcomes["ours"], outcomes["kinto"], args.backend)
    args.report.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
