"""A Riak that is down, silent or failing: clear errors, quickly, never a hang."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from kinto.core.cache import CacheBackendError
from kinto.core.storage.exceptions import BackendError

from kinto_riak.cache import RiakCache
from kinto_riak.kv import RiakError, RiakKV, Timeouts
from kinto_riak.testing import RiakStandIn

SHORT = Timeouts(connect=0.3, read=0.3, pool=0.3)

CALLS: list[tuple[str, Callable[[RiakCache], object]]] = [
    ("get", lambda cache: cache.get("key")),
    ("set", lambda cache: cache.set("key", "value", 10)),
    ("delete", lambda cache: cache.delete("key")),
    ("ttl", lambda cache: cache.ttl("key")),
    ("expire", lambda cache: cache.expire("key", 10)),
    ("flush", lambda cache: cache.flush()),
    ("delete_prefix", lambda cache: cache.delete_prefix("k")),
]


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def stalled() -> Iterator[RiakStandIn]:
    with RiakStandIn() as server:
        server.stall()
        yield server


def _cache(url: str) -> RiakCache:
    return RiakCache(RiakKV(url, "default", "cache", pool_size=2, timeouts=SHORT))


@pytest.mark.parametrize(("name", "call"), CALLS, ids=[name for name, _ in CALLS])
def test_every_operation_raises_a_backend_error_when_riak_is_unreachable(
    closed_port: int, name: str, call: Callable[[RiakCache], object]
) -> None:
    with pytest.raises(CacheBackendError) as raised:
        call(_cache(f"http://127.0.0.1:{closed_port}"))
    assert isinstance(raised.value, BackendError)
    assert f"127.0.0.1:{closed_port}" in str(raised.value)
    assert isinstance(raised.value.original, RiakError)


@pytest.mark.parametrize(("name", "call"), CALLS, ids=[name for name, _ in CALLS])
def test_every_operation_gives_up_on_a_silent_riak_after_the_read_timeout(
    stalled: RiakStandIn, name: str, call: Callable[[RiakCache], object]
) -> None:
    started = time.monotonic()
    with pytest.raises(CacheBackendError, match="timed out"):
        call(_cache(stalled.url))
    # Bounded, not measured: the timeout is 0.3 s; anything near a hang fails.
    assert time.monotonic() - started < 5


@pytest.mark.parametrize("status", [500, 503, 400])
def test_an_error_status_from_riak_is_a_backend_error_naming_it(standin: RiakStandIn, status: int) -> None:
    standin.fail_with(status)
    with pytest.raises(CacheBackendError, match=str(status)):
        _cache(standin.url).get("key")


def test_the_cache_works_again_once_riak_recovers(standin: RiakStandIn) -> None:
    cache = _cache(standin.url)
    standin.fail_with(503)
    with pytest.raises(CacheBackendError):
        cache.set("key", "value")
    standin.recover()
    cache.set("key", "value")
    assert cache.get("key") == "value"


def test_heartbeat_is_false_when_riak_is_unreachable(closed_port: int) -> None:
    assert _cache(f"http://127.0.0.1:{closed_port}").heartbeat() is False


def test_heartbeat_is_false_when_riak_is_silent(stalled: RiakStandIn) -> None:
    assert _cache(stalled.url).heartbeat() is False


def test_heartbeat_is_false_when_riak_answers_an_error(standin: RiakStandIn) -> None:
    standin.fail_with(503)
    assert _cache(standin.url).heartbeat() is False


def test_a_full_connection_pool_fails_instead_of_waiting_forever(stalled: RiakStandIn) -> None:
    kv = RiakKV(stalled.url, "default", "cache", pool_size=1, timeouts=Timeouts(connect=0.3, read=2.0, pool=0.2))
    holder = threading.Thread(target=lambda: pytest.raises(RiakError, kv.fetch, "a"))
    holder.start()
    assert stalled.wait_for_stalled_request()  # the first request holds the only connection
    with pytest.raises(RiakError, match="[Pp]ool"):
        kv.fetch("b")
    holder.join()
