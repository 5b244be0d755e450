"""``kinto-conformance kinto_riak.cache --setting kinto.cache_url=...`` against the stand-in, in a subprocess."""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from kinto_riak.testing import RiakStandIn


def _command() -> list[str]:
    if importlib.util.find_spec("kinto.core.testing.conformance") is None:
        pytest.skip("kinto-core does not ship kinto.core.testing.conformance (the kinto-conformance command) yet")
    script = shutil.which("kinto-conformance", path=str(Path(sys.executable).parent)) or shutil.which(
        "kinto-conformance"
    )
    if script is None:
        pytest.fail("kinto.core.testing.conformance is importable but the kinto-conformance script is not installed")
    return [script]


def _run(*arguments: str) -> subprocess.CompletedProcess[str]:
    environment = {name: value for name, value in os.environ.items() if not name.startswith("KINTO_")}
    return subprocess.run(
        [*_command(), *arguments], capture_output=True, text=True, timeout=600, env=environment, check=False
    )


def test_the_conformance_command_passes_against_the_stand_in(standin: RiakStandIn) -> None:
    result = _run("kinto_riak.cache", "--setting", f"kinto.cache_url={standin.url}")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "passed" in result.stdout.lower()


def test_the_conformance_command_accepts_the_short_name(standin: RiakStandIn) -> None:
    result = _run("riak", "--kind", "cache", "--setting", f"kinto.cache_url={standin.url}")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_conformance_command_fails_when_riak_is_down() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = _run("kinto_riak.cache", "--setting", f"kinto.cache_url=http://127.0.0.1:{port}")
    assert result.returncode == 1, result.stdout + result.stderr
