"""A ``kinto start`` process (Kinto 26.5.0's or ours) for the migration tests."""

from __future__ import annotations

from pathlib import Path

from kinto.core.testing.live import LiveServer, free_port

__all__ = ["Server"]


class Server(LiveServer):
    """A ``kinto start`` process (Kinto's or ours), started at once, ready when its heartbeat answers."""

    def __init__(self, command: list[str], log: Path, port: int | None = None, cwd: Path | None = None) -> None:
        """Ours listens on ``--port``; Kinto's pserve on the ``port`` its ini's server section names."""
        if port is None:
            port = free_port()
            command = [*command, "--port", str(port)]
        self.port = port
        self.url = f"http://127.0.0.1:{self.port}/v1"
        super().__init__(command, f"{self.url}/__heartbeat__", log=log, cwd=cwd, name=" ".join(command[:2]))
        self.start()
