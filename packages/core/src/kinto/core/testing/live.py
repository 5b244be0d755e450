"""A server process for tests: any command, ready once one of its URLs answers 200.

```python
from kinto.core.testing.live import LiveServer, free_port

port = free_port()
command = ["kinto", "start", "--ini", "kinto.ini", "--port", str(port)]
with LiveServer(command, f"http://127.0.0.1:{port}/v1/__heartbeat__", log=tmp_path / "server.log") as server:
    ...  # the server answers; server.output holds what it printed so far
```

The process runs in a session of its own, its output (stdout and stderr) appended
to ``log``. ``stop()`` (or leaving the ``with`` block) sends SIGTERM to the
command's process (a server stops its own workers), then SIGKILL to the whole
session if anything is left.
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence

__all__ = ["LiveServer", "ServerFailed", "free_port"]


class ServerFailed(RuntimeError):
    """The server exited, or did not answer in time; the message holds the end of its output."""


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


class LiveServer:
    """``command`` run in a subprocess until stopped, started once ``ready_url`` answers 200."""

    #: How much of the end of the output a ``ServerFailed`` message shows.
    shown_output = 3000

    def __init__(
        self,
        command: Sequence[str],
        ready_url: str,
        *,
        log: str | os.PathLike[str],
        cwd: str | os.PathLike[str] | None = None,
        env: Mapping[str, str] | None = None,
        ready_timeout: float = 60.0,
        name: str | None = None,
    ) -> None:
        """``env`` is the whole environment (default: this process's); ``name`` the server's in messages
        (default: the command's first word)."""
        self.command = list(command)
        self.name = name or self.command[0]
        self.ready_url = ready_url
        self.log = pathlib.Path(log)
        self.cwd = cwd
        self.env = dict(os.environ) if env is None else dict(env)
        self.ready_timeout = ready_timeout
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def output(self) -> str:
        """What the server printed so far (stdout and stderr)."""
        try:
            return self.log.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def start(self) -> LiveServer:
        """Start the command and wait until ``ready_url`` answers; ``ServerFailed`` if it exits or never does."""
        with self.log.open("ab") as output:
            self.process = subprocess.Popen(
                self.command,
                cwd=self.cwd,
                env=self.env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                returncode = self.process.returncode
                self.process = None
                raise ServerFailed(f"{self.name} exited with {returncode}:\n{self._tail()}")
            if self._answers():
                return self
            time.sleep(0.1)
        self.stop()
        raise ServerFailed(f"{self.name} did not answer within {self.ready_timeout}s:\n{self._tail()}")

    def _tail(self) -> str:
        return self.output[-self.shown_output :]

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(self.ready_url, timeout=2) as response:
                return response.status == 200
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False

    def stop(self, timeout: float = 15.0) -> int | None:
        """Stop the server (and its workers); return its exit status (None if it was not running)."""
        process = self.process
        if process is None:
            return None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=timeout)
        with contextlib.suppress(ProcessLookupError):  # anything of the server left behind
            os.killpg(process.pid, signal.SIGKILL)
        for pid in _session_members(process.pid):  # workers that made a process group of their own
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.process = None
        return process.returncode

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _session_members(session_id: int) -> list[int]:
    """The processes of session ``session_id`` (from ``/proc``; none where there is no ``/proc``).

    A server's workers may leave its process group (gunicorn's and granian's do): killing the
    group after the server itself was killed left them serving, on their own.
    """
    members = []
    for entry in pathlib.Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = entry.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile
        if len(fields) > 3 and int(fields[3]) == session_id:
            members.append(int(entry.parent.name))
    return members
