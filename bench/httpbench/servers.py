"""What a run serves: the servers under test (adapters) and the ceiling apps, all through granian.

A server under test says how to install it, how to write its ini for a storage, what to run before
it starts (schema creation) and which venv serves it. Every server and ceiling app is then started
the same way (``granian --interface wsgi``, same workers, threads and CPU pinning), so the only
difference between two lines of the table is the application.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from abc import ABC, abstractmethod
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

from .databases import Storage

BENCH = Path(__file__).resolve().parent.parent
ROOT = BENCH.parent
APPS = BENCH / "apps"
VENVS = BENCH / ".venvs"
KINTO_VERSION = "26.5.0"
HMAC_SECRET = "bench-secret-not-for-production"


@dataclass(frozen=True)
class ServeSettings:
    """granian settings shared by every server of a run."""

    workers: int
    threads: int
    cpu: str  # taskset list, e.g. "0"


def ini_text(distribution: str, storage: Storage) -> str:
    """An ini valid for Kinto 26.5.0 and for our server: same setting names, quiet logging."""
    backend = storage.kind
    lines = [
        "[app:main]",
        f"use = egg:{distribution}",
        f"kinto.storage_backend = kinto.core.storage.{backend}",
        f"kinto.cache_backend = kinto.core.cache.{backend}",
        f"kinto.permission_backend = kinto.core.permission.{backend}",
    ]
    if storage.url:
        lines += [f"kinto.{kind}_url = {storage.url}" for kind in ("storage", "permission")]
        lines.append(f"kinto.cache_url = {storage.cache_url or storage.url}")
    lines += [
        f"kinto.userid_hmac_secret = {HMAC_SECRET}",
        "multiauth.policies = basicauth",
        "kinto.bucket_create_principals = system.Authenticated",
        "",
        # Both servers log per request at INFO; the benchmark measures them with logging at WARNING.
        "[loggers]",
        "keys = root",
        "[handlers]",
        "keys = console",
        "[formatters]",
        "keys = plain",
        "[logger_root]",
        "level = WARNING",
        "handlers = console",
        "[handler_console]",
        "class = StreamHandler",
        "args = (sys.stderr,)",
        "level = NOTSET",
        "formatter = plain",
        "[formatter_plain]",
        "format = %(levelname)s %(name)s %(message)s",
    ]
    return "\n".join(lines) + "\n"


class ServerUnderTest(ABC):
    """An application compared in the table: installed, configured and prepared its own way."""

    key: str  # column prefix and file names: "kinto", "ours"
    label: str
    distribution: str  # the paste egg of its ``[app:main]``

    @abstractmethod
    def unavailable(self) -> str | None:
        """Why it cannot be measured in this run, or None."""

    @abstractmethod
    def install(self) -> None:
        """Make ``bin_dir()`` hold it, granian and its ``kinto`` command."""

    @abstractmethod
    def bin_dir(self) -> Path:
        """The venv's bin folder serving it."""

    def version(self) -> str:
        return KINTO_VERSION

    def backend_for(self, backend: str) -> str:
        """The storage kind this server uses when the run's backend is ``backend``."""
        return backend

    def write_ini(self, path: Path, storage: Storage) -> None:
        path.write_text(ini_text(self.distribution, storage))

    def prepare(self, ini: Path, storage: Storage, log: Path) -> None:
        """Create the schema of a persistent backend (``kinto migrate``)."""
        if storage.kind == "memory":
            return
        with log.open("a") as output:
            subprocess.run(
                [str(self.bin_dir() / "kinto"), "migrate", "--ini", str(ini)],
                stdout=output,
                stderr=subprocess.STDOUT,
                check=True,
            )


def _uv() -> str | None:
    found = shutil.which("uv")
    beside = Path(sys.executable).parent / "uv"
    return found or (str(beside) if beside.exists() else None)


class KintoReference(ServerUnderTest):
    """Kinto from PyPI, in a venv of its own (its ``kinto/__init__.py`` would shadow our namespace)."""

    key = "kinto"
    label = f"Kinto {KINTO_VERSION}"
    distribution = "kinto"

    def __init__(self, venv: Path = VENVS / f"kinto-{KINTO_VERSION}") -> None:
        self.venv = venv

    def unavailable(self) -> str | None:
        return None

    def bin_dir(self) -> Path:
        return self.venv / "bin"

    def backend_for(self, backend: str) -> str:
        # Kinto 26.5.0 has no SQLite backend: our SQLite is compared with its memory backend.
        return "memory" if backend == "sqlite" else backend

    def install(self) -> None:
        granian = version("granian")
        wanted = [f"kinto[postgresql]=={KINTO_VERSION}", f"granian=={granian}"]
        python = self.bin_dir() / "python"
        if python.exists() and self._installed(python, granian):
            return
        uv = _uv()
        if uv:
            subprocess.run([uv, "venv", "-q", "--python", sys.executable, str(self.venv)], check=True)
            subprocess.run([uv, "pip", "install", "-q", "--python", str(python), *wanted], check=True)
        else:
            subprocess.run([sys.executable, "-m", "venv", str(self.venv)], check=True)
            subprocess.run([str(python), "-m", "pip", "install", "-q", *wanted], check=True)

    @staticmethod
    def _installed(python: Path, granian: str) -> bool:
        probe = (
            "from importlib.metadata import version as v; "
            f"assert v('kinto') == '{KINTO_VERSION}' and v('granian') == '{granian}'; import psycopg2"
        )
        return subprocess.run([str(python), "-c", probe], capture_output=True, check=False).returncode == 0


class OurServer(ServerUnderTest):
    """packages/server with packages/core, in the venv running the harness (nox installs them there)."""

    key = "ours"
    label = "ours"
    distribution = "kinto-server"

    def unavailable(self) -> str | None:
        if not (ROOT / "packages" / "server" / "src" / "kinto" / "server" / "__init__.py").exists():
            return "packages/server does not exist yet"
        if importlib.util.find_spec("kinto.server") is None:
            return "kinto.server is not installed in this venv (run it through `nox -s bench`)"
        return None

    def install(self) -> None:
        """Nothing: ``nox -s bench`` installs packages/core and packages/server editable in this venv."""

    def bin_dir(self) -> Path:
        return Path(sys.executable).parent

    def version(self) -> str:
        described = subprocess.run(
            ["git", "-C", str(ROOT), "describe", "--always", "--dirty"], capture_output=True, text=True, check=False
        )
        return described.stdout.strip() or "unknown"


@dataclass(frozen=True)
class CeilingApp:
    """An empty application served like the servers: the HTTP stack's limit."""

    key: str
    label: str
    factory: str  # "module:function" in bench/apps/ceiling_apps.py


CEILING_APPS = (
    CeilingApp("raw", "raw WSGI callable", "ceiling_apps:make_raw"),
    CeilingApp("pyramid", "empty Pyramid view", "ceiling_apps:make_pyramid"),
    CeilingApp("cornice", "empty Cornice service", "ceiling_apps:make_cornice"),
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RunningServer:
    """A granian process (its own process group) serving one application on 127.0.0.1."""

    def __init__(
        self,
        key: str,
        bin_dir: Path,
        target: str,
        settings: ServeSettings,
        log: Path,
        ini: Path | None = None,
        ready_path: str = "/",
    ) -> None:
        self.key = key
        self.port = free_port()
        self.cpu = settings.cpu
        self.log = log
        environment = dict(os.environ)
        if ini is not None:
            environment["BENCH_INI"] = str(ini)
        command = [
            "taskset",
            "-c",
            settings.cpu,
            str(bin_dir / "granian"),
            "--interface",
            "wsgi",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            str(settings.workers),
            "--blocking-threads",
            str(settings.threads),
            "--no-ws",
            "--log-level",
            "warning",
            "--working-dir",
            str(APPS),
            "--factory",
            target,
        ]
        with log.open("a") as output:
            self.process = subprocess.Popen(
                command, stdout=output, stderr=subprocess.STDOUT, env=environment, start_new_session=True
            )
        self._wait_ready(ready_path)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def _wait_ready(self, path: str, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.key} exited with {self.process.returncode}:\n{self._log_tail()}")
            try:
                with urllib.request.urlopen(self.url + path, timeout=5) as answer:
                    if answer.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"{self.key} not ready after {timeout}s:\n{self._log_tail()}")

    def _log_tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-30:])

    def stop(self) -> None:
        """End the granian process group this object started."""
        if self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
