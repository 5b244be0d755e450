import importlib
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

# The contract classes live in the package, not in test files: ask pytest to rewrite their asserts too.
pytest.register_assert_rewrite("kinto.core.testing.cache", "kinto.core.testing.permission")

BACKENDS = ("memory", "sqlite", "postgresql", "redis", "memcached")

#: A database number of its own, so the tests never touch another user's keys on the default server.
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/9"


def pytest_collection_modifyitems(config, items):
    """``KINTO_CONTRACT_BACKENDS`` selects the backends, as for the storage suite."""
    from kinto.core.testing.storage import backend_selected

    for item in items:
        for backend in BACKENDS:
            if item.path.name.endswith(f"_{backend}.py") and not backend_selected(backend):
                item.add_marker(pytest.mark.skip(reason=f"KINTO_CONTRACT_BACKENDS excludes {backend}"))


def _require_or_skip(required: bool, reason: str) -> None:
    if required:
        pytest.fail(reason)
    pytest.skip(reason, allow_module_level=True)


def import_driver(module: str, extra: str, variable: str):
    """Import a backend's client library for a test module; skip the module (visibly) when it is
    missing, unless the service's test variable is set: then the tests must run, and fail."""
    try:
        return importlib.import_module(module)
    except ImportError:
        required = bool(os.environ.get(variable))
        _require_or_skip(required, f"the {extra} tests need {module}: pip install 'kinto-core[{extra}]'")


# -- Redis -----------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def redis_url() -> str:
    """``KINTO_TEST_REDIS_URL`` (which must answer: CI sets it), else the local default, skipped visibly
    when nothing answers there."""
    url = os.environ.get("KINTO_TEST_REDIS_URL", "")
    required = bool(url)
    url = url or DEFAULT_REDIS_URL
    redis = import_driver("redis", "redis", "KINTO_TEST_REDIS_URL")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2).ping()
    except redis.RedisError as error:
        _require_or_skip(required, f"no Redis answers at {url} (set KINTO_TEST_REDIS_URL to require one): {error}")
    return url


# -- memcached -------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1) as connection:
            connection.sendall(b"version\r\n")
            return connection.recv(64).startswith(b"VERSION")
    except OSError:
        return False


@contextmanager
def memcached_server() -> Iterator[str]:
    """Start a memcached of our own on a free port of 127.0.0.1; yield ``host:port``; stop it."""
    binary = shutil.which("memcached")
    if binary is None:
        pytest.skip("memcached is not installed (apt-get install memcached) and KINTO_TEST_MEMCACHED_URL is unset")
    port = free_port()
    command = [binary, "-l", "127.0.0.1", "-p", str(port), "-U", "0", "-m", "64"]
    if os.geteuid() == 0:
        command += ["-u", "root"]  # memcached refuses to run as root without being told whom to run as
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 10
        while not _answers("127.0.0.1", port):
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"{' '.join(command)} did not start: {process.communicate()[1].decode(errors='replace')}")
            time.sleep(0.02)
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture(scope="session")
def memcached_host() -> Iterator[str]:
    """``host:port`` of the memcached the tests use: ``KINTO_TEST_MEMCACHED_URL``
    (``memcached://host:port`` or ``host:port``, which must answer), else one started for the session."""
    import_driver("pymemcache", "memcached", "KINTO_TEST_MEMCACHED_URL")
    url = os.environ.get("KINTO_TEST_MEMCACHED_URL", "")
    if url:
        host = url.removeprefix("memcached://").rstrip("/")
        name, _, port = host.rpartition(":")
        if not _answers(name, int(port)):
            pytest.fail(f"KINTO_TEST_MEMCACHED_URL={url} is set but no memcached answers there")
        yield host
        return
    with memcached_server() as host:
        yield host
