"""RiakCache against Riak (the stand-in, or a real node with RIAK_URL): the cache contract's semantics."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from riak_helpers import FakeClock

from kinto_riak.cache import RiakCache, riak_key

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
cache_keys = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40)
with_fixtures = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)


# -- values and keys ---------------------------------------------------------------------


@with_fixtures
@given(value=json_values)
def test_values_round_trip_as_json(cache: RiakCache, value: object) -> None:
    cache.set("key", value, 60)
    assert cache.get("key") == value


@with_fixtures
@given(key=cache_keys)
def test_any_text_key_is_stored_under_its_own_name(cache: RiakCache, key: str) -> None:
    cache.set(key, {"key": key}, 60)
    cache.set(key + "~", "neighbour", 60)
    assert cache.get(key) == {"key": key}
    assert cache.delete(key) == {"key": key}
    assert cache.get(key) is None


@given(prefix=cache_keys, rest=cache_keys, other=cache_keys)
def test_riak_keys_keep_prefixes_and_only_them(prefix: str, rest: str, other: str) -> None:
    assert riak_key(prefix + rest).startswith(_escaped(prefix))
    assert riak_key(other).startswith(_escaped(prefix)) == other.startswith(prefix) or other == "" == prefix


@given(key=cache_keys)
def test_riak_keys_need_no_url_escaping(key: str) -> None:
    assert all(char.isascii() and (char.isalnum() or char in "-_") for char in riak_key(key))


def _escaped(prefix: str) -> str:
    return riak_key(prefix) if prefix else ""


def test_a_value_that_is_not_json_is_refused_and_nothing_is_stored(cache: RiakCache) -> None:
    cache.set("key", "before", 60)
    for value in (b"bytes", {1, 2}, float("nan"), object()):
        with pytest.raises(TypeError):
            cache.set("key", value, 60)
    assert cache.get("key") == "before"


def test_a_key_with_a_nul_character_is_refused(cache: RiakCache) -> None:
    for method, args in ((cache.set, ("a\x00b", 1)), (cache.get, ("a\x00b",)), (cache.delete, ("a\x00b",))):
        with pytest.raises(ValueError):
            method(*args)


def test_a_dict_got_is_not_the_dict_set(cache: RiakCache) -> None:
    value = {"list": [1]}
    cache.set("key", value)
    value["list"].append(2)
    assert cache.get("key") == {"list": [1]}


# -- missing keys and deletion -----------------------------------------------------------------


def test_a_missing_key_reads_as_none_and_deletes_as_none(cache: RiakCache) -> None:
    assert cache.get("missing") is None
    assert cache.delete("missing") is None
    assert cache.ttl("missing") == -1


def test_delete_returns_the_value_and_removes_it(cache: RiakCache) -> None:
    cache.set("key", {"a": 1}, 60)
    assert cache.delete("key") == {"a": 1}
    assert cache.get("key") is None
    assert cache.delete("key") is None


def test_the_empty_key_is_an_ordinary_key(cache: RiakCache) -> None:
    cache.set("", "empty", 60)
    cache.set("x", "other", 60)
    assert cache.get("") == "empty"
    assert cache.delete("") == "empty"
    assert cache.get("x") == "other"


# -- time to live -----------------------------------------------------------------------------


def test_expired_keys_are_never_returned(cache: RiakCache, clock: FakeClock) -> None:
    cache.set("key", "value", 10)
    clock.advance(9.9)
    assert cache.get("key") == "value"
    clock.advance(0.1)
    assert cache.get("key") is None
    assert cache.ttl("key") == -1
    assert cache.delete("key") is None


def test_ttl_counts_down_from_the_ttl_set(cache: RiakCache, clock: FakeClock) -> None:
    cache.set("key", "value", 30)
    assert cache.ttl("key") == pytest.approx(30)
    clock.advance(12.5)
    assert cache.ttl("key") == pytest.approx(17.5)


def test_a_value_set_without_ttl_never_expires(cache: RiakCache, clock: FakeClock) -> None:
    cache.set("key", "value")
    clock.advance(10**9)
    assert cache.get("key") == "value"
    assert cache.ttl("key") == -1


def test_an_infinite_ttl_means_no_expiry(cache: RiakCache, clock: FakeClock) -> None:
    cache.set("key", "value", math.inf)
    clock.advance(10**9)
    assert cache.get("key") == "value"


@pytest.mark.parametrize("ttl", [0, -1, -0.5])
def test_a_ttl_of_zero_or_less_stores_an_expired_value(cache: RiakCache, ttl: float) -> None:
    cache.set("key", "before", 60)
    cache.set("key", "after", ttl)
    assert cache.get("key") is None
    assert cache.ttl("key") == -1


@pytest.mark.parametrize("ttl", ["10", True, [1]])
def test_a_ttl_that_is_not_a_number_is_refused(cache: RiakCache, ttl: object) -> None:
    with pytest.raises(TypeError):
        cache.expire("key", ttl)  # type: ignore[arg-type]


def test_a_nan_ttl_is_refused(cache: RiakCache) -> None:
    with pytest.raises(ValueError):
        cache.set("key", "value", math.nan)


def test_expire_changes_the_time_to_live(cache: RiakCache, clock: FakeClock) -> None:
    cache.set("key", "value", 10)
    cache.expire("key", 100)
    clock.advance(50)
    assert cache.get("key") == "value"
    assert cache.ttl("key") == pytest.approx(50)


def test_expire_gives_a_ttl_to_a_key_without_one(cache: RiakCache, clock: FakeClock) -> None:
    cache.set("key", "value")
    cache.expire("key", 5)
    clock.advance(5)
    assert cache.get("key") is None


@pytest.mark.parametrize("ttl", [0, -3])
def test_expire_with_zero_or_less_expires_at_once(cache: RiakCache, ttl: float) -> None:
    cache.set("key", "value", 60)
    cache.expire("key", ttl)
    assert cache.get("key") is None
    assert cache.ttl("key") == -1


def test_expire_leaves_a_missing_key_missing(cache: RiakCache) -> None:
    cache.expire("missing", 60)
    assert cache.get("missing") is None


def test_expire_does_not_revive_an_expired_key(cache: RiakCache, clock: FakeClock) -> None:
    cache.set("key", "value", 1)
    clock.advance(2)
    cache.expire("key", 60)
    assert cache.get("key") is None


def test_set_overwrites_the_ttl(cache: RiakCache, clock: FakeClock) -> None:
    cache.set("key", "first", 5)
    cache.set("key", "second")
    clock.advance(10)
    assert cache.get("key") == "second"


# -- prefixes, flush, delete_prefix -------------------------------------------------------------


def test_a_prefixed_cache_stores_under_prefix_plus_key(make_cache: Callable[..., RiakCache]) -> None:
    plain, prefixed = make_cache(""), make_cache("app1_")
    prefixed.set("key", "from app1", 60)
    plain.set("app1_other", "from plain", 60)
    assert plain.get("app1_key") == "from app1"
    assert prefixed.get("other") == "from plain"
    assert prefixed.delete("other") == "from plain"
    assert plain.get("app1_other") is None


def test_prefixes_keep_applications_apart(make_cache: Callable[..., RiakCache]) -> None:
    first, second = make_cache("one_"), make_cache("two_")
    first.set("key", 1, 60)
    second.set("key", 2, 60)
    assert (first.get("key"), second.get("key")) == (1, 2)


def test_flush_deletes_the_keys_of_its_prefix_only(make_cache: Callable[..., RiakCache]) -> None:
    first, second = make_cache("one_"), make_cache("two_")
    for index in range(12):
        first.set(f"key{index}", index, 60)
    second.set("key", "kept", 60)
    first.flush()
    assert [first.get(f"key{index}") for index in range(12)] == [None] * 12
    assert second.get("key") == "kept"


def test_flush_without_prefix_empties_the_bucket(make_cache: Callable[..., RiakCache]) -> None:
    plain, prefixed = make_cache(""), make_cache("p_")
    plain.set("a", 1)
    prefixed.set("b", 2)
    plain.set("", 3)
    plain.flush()
    assert (plain.get("a"), prefixed.get("b"), plain.get("")) == (None, None, None)


def test_delete_prefix_removes_matching_keys_and_counts_live_ones(cache: RiakCache, clock: FakeClock) -> None:
    cache.set("user:1:a", 1, 60)
    cache.set("user:1:b", 2, 5)
    cache.set("user:10", 3, 60)
    cache.set("user:2", 4, 60)
    clock.advance(6)
    assert cache.delete_prefix("user:1") == 2  # user:1:b had expired
    assert cache.get("user:2") == 4
    assert cache.get("user:1:a") is None


def test_delete_prefix_is_literal_and_stays_in_its_prefix(make_cache: Callable[..., RiakCache]) -> None:
    plain, prefixed = make_cache(""), make_cache("p_")
    plain.set("*x", 1)
    plain.set("ab", 2)
    plain.set("p_ab", 3)
    assert prefixed.delete_prefix("a") == 1
    assert plain.delete_prefix("*") == 1
    assert (plain.get("ab"), plain.get("p_ab")) == (2, None)


def test_many_keys_are_flushed(cache: RiakCache) -> None:
    for index in range(40):
        cache.set(f"key{index}", index)
    cache.flush()
    # Not the key listing: a real Riak lists deleted keys until their tombstones are reaped.
    assert [cache.get(f"key{index}") for index in range(40)] == [None] * 40


# -- administration --------------------------------------------------------------------------------


def test_initialize_schema_is_idempotent(cache: RiakCache) -> None:
    cache.initialize_schema()
    cache.initialize_schema(dry_run=True)
    cache.set("key", "value")
    assert cache.get("key") == "value"


def test_heartbeat_is_true_when_riak_answers(cache: RiakCache) -> None:
    assert cache.heartbeat() is True


def test_the_backend_declares_it_is_shared_between_processes(cache: RiakCache) -> None:
    assert cache.supports_concurrent_processes is True
    assert cache.supports_delete_prefix is True
