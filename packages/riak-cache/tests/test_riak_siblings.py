"""Siblings and vector clocks: last write wins on read, siblings resolved on write."""

from __future__ import annotations

import json

import pytest
from riak_helpers import TEST_TIMEOUTS, FakeClock

from kinto_riak.cache import Entry, RiakCache, latest_entry, riak_key
from kinto_riak.kv import RiakKV, Sibling
from kinto_riak.testing import RiakStandIn

BUCKET = "cache"


def _entry(value: object, written_at: float, expires_at: float | None = None) -> bytes:
    return Entry(value, expires_at, written_at).encode()


@pytest.fixture
def riak() -> RiakStandIn:
    with RiakStandIn(allow_mult=True) as server:
        yield server


@pytest.fixture
def kv(riak: RiakStandIn) -> RiakKV:
    return RiakKV(riak.url, "default", BUCKET, pool_size=2, timeouts=TEST_TIMEOUTS)


@pytest.fixture
def cache(kv: RiakKV, clock: FakeClock) -> RiakCache:
    return RiakCache(kv, clock=clock)


def _blind_writes(kv: RiakKV, key: str, *bodies: bytes) -> None:
    """Writes without a vector clock, as from processes racing each other."""
    for body in bodies:
        kv.store(riak_key(key), body)


def test_concurrent_writes_leave_siblings_and_reads_pick_the_last_written(
    riak: RiakStandIn, kv: RiakKV, cache: RiakCache, clock: FakeClock
) -> None:
    _blind_writes(
        kv, "key", _entry("newest", clock.now + 2), _entry("oldest", clock.now), _entry("middle", clock.now + 1)
    )
    assert riak.sibling_count("default", BUCKET, "key") == 3
    assert cache.get("key") == "newest"


def test_a_set_on_a_key_with_siblings_leaves_one_value(riak: RiakStandIn, kv: RiakKV, cache: RiakCache) -> None:
    _blind_writes(kv, "key", _entry("a", 1.0), _entry("b", 2.0))
    cache.set("key", "resolved", 60)
    assert riak.sibling_count("default", BUCKET, "key") == 1
    assert cache.get("key") == "resolved"


def test_a_write_meeting_a_newer_concurrent_write_keeps_the_newer(
    riak: RiakStandIn, kv: RiakKV, cache: RiakCache, clock: FakeClock
) -> None:
    _blind_writes(kv, "key", _entry("from the future", clock.now + 100))
    cache.set("key", "now", 60)
    assert riak.sibling_count("default", BUCKET, "key") == 1
    assert cache.get("key") == "from the future"


def test_expire_on_siblings_resolves_them(riak: RiakStandIn, kv: RiakKV, cache: RiakCache, clock: FakeClock) -> None:
    _blind_writes(kv, "key", _entry("old", clock.now - 2), _entry("new", clock.now - 1))
    cache.expire("key", 30)
    assert riak.sibling_count("default", BUCKET, "key") == 1
    assert cache.get("key") == "new"
    assert cache.ttl("key") == pytest.approx(30)


def test_delete_removes_every_sibling(riak: RiakStandIn, kv: RiakKV, cache: RiakCache) -> None:
    _blind_writes(kv, "key", _entry("a", 1.0), _entry("b", 2.0))
    assert cache.delete("key") == "b"
    assert riak.sibling_count("default", BUCKET, "key") == 0


def test_an_expired_winner_hides_older_siblings(kv: RiakKV, cache: RiakCache, clock: FakeClock) -> None:
    _blind_writes(kv, "key", _entry("live but older", 1.0), _entry("newest, expired", 2.0, expires_at=clock.now - 1))
    assert cache.get("key") is None


def test_expired_keys_are_deleted_when_read(riak: RiakStandIn, cache: RiakCache, clock: FakeClock) -> None:
    cache.set("key", "value", 1)
    clock.advance(1)
    assert riak.keys("default", BUCKET) == ["key"]
    assert cache.get("key") is None
    assert riak.keys("default", BUCKET) == []


def test_writes_with_the_vector_clock_replace_instead_of_adding_siblings(riak: RiakStandIn, cache: RiakCache) -> None:
    for index in range(5):
        cache.set("key", index, 60)
        cache.expire("key", 10 + index)
    assert riak.sibling_count("default", BUCKET, "key") == 1
    assert cache.get("key") == 4


def test_the_latest_entry_ignores_tombstones_and_foreign_bodies() -> None:
    siblings = [
        Sibling(b"", deleted=True),
        Sibling(b"not json"),
        Sibling(json.dumps({"something": "else"}).encode()),
        Sibling(_entry("kept", 5.0)),
        Sibling(_entry("older", 4.0)),
    ]
    assert latest_entry(siblings) == Entry("kept", None, 5.0)
    assert latest_entry(siblings[:3]) is None


def test_a_bucket_type_with_allow_mult_by_default_behaves_the_same(standin: RiakStandIn, clock: FakeClock) -> None:
    kv = RiakKV(standin.url, "sets_of_siblings", BUCKET, timeouts=TEST_TIMEOUTS)
    cache = RiakCache(kv, clock=clock)
    for index in range(3):
        cache.set("key", index)
    assert standin.sibling_count("sets_of_siblings", BUCKET, "key") == 1
    assert cache.get("key") == 2
