"""A live Kinto server for tests: ``kinto start`` in a subprocess on a free port.

```python
from kinto.server.testing import LiveServer

with LiveServer(ini="kinto.ini", cwd=tmp_path) as server:
    requests.get(server.url + "/")            # http://127.0.0.1:<port>/v1/
```

The server runs the real command (``python -m kinto.server start``), so it
exercises the WSGI server, the worker processes and the configuration loading
exactly as users run them. ``stop()`` (or leaving the ``with`` block) ends it
with SIGTERM, then SIGKILL if it lingers.
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence

__all__ = ["LiveServer", "ServerFailed", "free_port", "run_kinto"]


class ServerFailed(RuntimeError):
    """The server exited, or did not answer in time; the message holds its output."""


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def run_kinto(*args: str, cwd: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None,
              timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run ``kinto ARGS`` (as ``python -m kinto.server``) to completion; never raises on a failure status."""
    return subprocess.run(
        [sys.executable, "-m", "kinto.server", *args], cwd=cwd, env=_environment(env), capture_output=True,
        text=True, timeout=timeout, check=False,
    )


def _environment(extra: Mapping[str, str] | None) -> dict[str, str]:
    environ = {key: value for key, value in os.environ.items() if key not in ("KINTO_INI", "KINTO_DATA_FOLDER")}
    environ.update(extra or {})
    return environ


class LiveServer:
    """``kinto start`` on a free port of 127.0.0.1, in a subprocess (see the module docstring)."""

    def __init__(
        self,
        ini: str | os.PathLike[str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        args: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
        port: int | None = None,
        ready_timeout: float = 60.0,
    ) -> None:
        self.ini = ini
        self.cwd = pathlib.Path(cwd) if cwd is not None else pathlib.Path(tempfile.mkdtemp(prefix="kinto-live-"))
        self.args = list(args)
        self.env = dict(env or {})
        self.port = port or free_port()
        self.ready_timeout = ready_timeout
        self.process: subprocess.Popen[bytes] | None = None
        self._log_path = self.cwd / f"kinto-{self.port}.log"

    @property
    def url(self) -> str:
        """The API root, without a trailing slash: ``http://127.0.0.1:<port>/v1``."""
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def output(self) -> str:
        """What the server printed so far (stdout and stderr)."""
        try:
            return self._log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def command(self) -> list[str]:
        command = [sys.executable, "-m", "kinto.server", "start", "--port", str(self.port)]
        if self.ini is not None:
            command += ["--ini", str(self.ini)]
        return command + self.args

    def start(self) -> LiveServer:
        """Start the server and wait until it answers ``/v1/__lbheartbeat__``."""
        log = self._log_path.open("wb")
        self.process = subprocess.Popen(self.command(), cwd=self.cwd, env=_environment(self.env), stdout=log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServerFailed(f"kinto start exited with {self.process.returncode}:\n{self.output}")
            if self._answers():
                return self
            time.sleep(0.1)
        self.stop()
        raise ServerFailed(f"kinto start did not answer within {self.ready_timeout}s:\n{self.output}")

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/__lbheartbeat__", timeout=2) as response:
                return response.status == 200
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False

    def stop(self, timeout: float = 15.0) -> int | None:
        """Stop the server (and its workers); return its exit status."""
        process = self.process
        if process is None:
            return None
        if process.poll() is None:
            # The main process only: it stops its workers (and a reloader its server) itself.
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=timeout)
        with contextlib.suppress(ProcessLookupError):  # anything of the server left behind
            os.killpg(process.pid, signal.SIGKILL)
        self.process = None
        return process.returncode

    def __enter__(self) -> LiveServer:  # noqa: PYI034 -- Python 3.10 has no typing.Self
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
