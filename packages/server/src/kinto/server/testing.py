"""A live Kinto server for tests: ``kinto start`` in a subprocess on a free port.

```python
from kinto.server.testing import LiveServer

with LiveServer(ini="kinto.ini", cwd=tmp_path) as server:
    requests.get(server.url + "/")            # http://127.0.0.1:<port>/v1/
```

The server runs the real command (``python -m kinto.server start``), so it
exercises the WSGI server, the worker processes and the configuration loading
exactly as users run them. ``stop()`` (or leaving the ``with`` block) ends it
with SIGTERM, then SIGKILL if it lingers. It is the core's
:class:`kinto.core.testing.live.LiveServer` (any command) with ``kinto start``'s
command line, port and readiness URL.
"""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence

from kinto.core.testing import live
from kinto.core.testing.live import ServerFailed, free_port

__all__ = ["LiveServer", "ServerFailed", "free_port", "run_kinto"]


def run_kinto(
    *args: str, cwd: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run ``kinto ARGS`` (as ``python -m kinto.server``) to completion; never raises on a failure status."""
    return subprocess.run(
        [sys.executable, "-m", "kinto.server", *args],
        cwd=cwd,
        env=_environment(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _environment(extra: Mapping[str, str] | None) -> dict[str, str]:
    environ = {key: value for key, value in os.environ.items() if key not in ("KINTO_INI", "KINTO_DATA_FOLDER")}
    environ.update(extra or {})
    return environ


class LiveServer(live.LiveServer):
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
        self.port = port or free_port()
        folder = pathlib.Path(cwd) if cwd is not None else pathlib.Path(tempfile.mkdtemp(prefix="kinto-live-"))
        command = [sys.executable, "-m", "kinto.server", "start", "--port", str(self.port)]
        if ini is not None:
            command += ["--ini", str(ini)]
        super().__init__(
            [*command, *args],
            f"{self.url}/__lbheartbeat__",
            log=folder / f"kinto-{self.port}.log",
            cwd=folder,
            env=_environment(env),
            ready_timeout=ready_timeout,
            name="kinto start",
        )

    @property
    def url(self) -> str:
        """The API root, without a trailing slash: ``http://127.0.0.1:<port>/v1``."""
        return f"http://127.0.0.1:{self.port}/v1"
