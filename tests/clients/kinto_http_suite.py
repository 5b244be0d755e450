"""kinto-http.py's own functional tests against a live ``kinto start`` of ours (``nox -s clients``).

The Python client's source distribution ships the tests its maintainers run
against a live Kinto (``tests/test_functional.py``, ``tests/test_functional_async.py``)
and the server configuration they use (``tests/config/kinto.ini``: accounts,
flush, kinto-attachment, the permissions endpoint). This script downloads that
sdist, starts our server with that configuration unchanged (but for the lines
of ``DROPPED``: plugins we cannot load yet), and runs those tests as they are.
The suite's client talks to ``http://localhost:8888/v1`` (its constant): the
port must be free. Exit status: pytest's (no test collected is a failure).
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from kinto.core.testing.live import LiveServer, ServerFailed

KINTO_HTTP = "kinto-http==11.11.0"
SUITE = ("tests/test_functional.py", "tests/test_functional_async.py")
PORT = 8888
#: Lines of the suite's kinto.ini naming plugins we do not offer yet, and the tests that need them.
DROPPED: dict[str, tuple[str, ...]] = {}


def download(folder: Path) -> Path:
    """The unpacked sdist of ``KINTO_HTTP`` in ``folder``."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "-q",
            "--no-deps",
            "--no-binary",
            ":all:",
            "--dest",
            str(folder),
            KINTO_HTTP,
        ],
        check=True,
    )
    archive = next(folder.glob("kinto_http-*.tar.gz"))
    with tarfile.open(archive) as tar:
        tar.extractall(folder, filter="data")
    return next(path for path in folder.iterdir() if path.is_dir() and path.name.startswith("kinto_http-"))


def configuration(suite: Path, folder: Path) -> Path:
    """The suite's kinto.ini minus the ``DROPPED`` lines, attachments kept in ``folder``."""
    lines = []
    for line in (suite / "tests" / "config" / "kinto.ini").read_text().splitlines():
        if any(name in line for name in DROPPED):
            print(f"dropped from the suite's kinto.ini: {line.strip()}")
            continue
        if line.strip().startswith("kinto.attachment.base_path"):
            line = f"kinto.attachment.base_path = {folder / 'attachments'}"
        lines.append(line)
    ini = folder / "kinto.ini"
    ini.write_text("\n".join(lines) + "\n")
    return ini


def ensure_port_free() -> None:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("0.0.0.0", PORT))
        except OSError:
            sys.exit(f"port {PORT} is in use: the suite's client only talks to http://localhost:{PORT}/v1")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pytest_args", nargs="*", help="more pytest arguments, e.g. -k bucket")
    args = parser.parse_args(argv)
    ensure_port_free()
    folder = Path(tempfile.mkdtemp(prefix="kinto-http-suite-"))
    try:
        suite = download(folder)
        ini = configuration(suite, folder)
        log = folder / "server.log"
        kinto = shutil.which("kinto", path=str(Path(sys.executable).parent)) or "kinto"
        server = LiveServer(
            [kinto, "start", "--ini", str(ini)],
            f"http://127.0.0.1:{PORT}/v1/__heartbeat__",
            log=log,
            cwd=folder,
            name="kinto start",
        )
        try:
            server.start()
        except ServerFailed as error:
            sys.exit(str(error))
        try:
            deselected = [name for names in DROPPED.values() for name in names]
            selection = ["-k", " and ".join(f"not {name}" for name in deselected)] if deselected else []
            result = subprocess.run(
                [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *SUITE, *selection, *args.pytest_args],
                cwd=suite,
                env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
                check=False,
            )
        finally:
            server.stop()
        if result.returncode != 0:
            print(f"server log: {log}")
            return result.returncode
        return 0
    finally:
        if "result" in locals() and result.returncode == 0:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
