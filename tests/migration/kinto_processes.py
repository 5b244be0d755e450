"""A ``kinto start`` process (Kinto 26.5.0's or ours) for the migration tests."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import requests

from kinto.server.testing import free_port

__all__ = ["Server"]


class Server:
    """A ``kinto start`` process (Kinto's or ours), stopped by its own process group."""

    def __init__(self, command: list[str], log: Path, port: int | None = None, cwd: Path | None = None) -> None:
        """Ours listens on ``--port``; Kinto's pserve on the ``port`` its ini's server section names."""
        if port is None:
            port = free_port()
            command = [*command, "--port", str(port)]
        self.port = port
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.log = log
        with log.open("ab") as output:
            self.process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, cwd=cwd,
                                            start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"{command} exited: {log.read_text()[-3000:]}")
            try:
                if requests.get(f"{self.url}/__heartbeat__", timeout=2).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.3)
        self.stop()
        raise AssertionError(f"{command} did not answer: {log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
