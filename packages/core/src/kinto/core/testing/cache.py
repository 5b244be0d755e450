"""The cache contract suite.

Subclass ``CacheContract`` in a test module and provide a ``backend_factory``
fixture: a callable returning a fresh, flushed ``CacheBase``. The default one
comes from the pytest plugin (``-p kinto.core.testing.plugin`` with
``--kinto-backend``); in-tree backends build theirs with
``kinto.core.testing.plugin.BackendFactory``. When the factory accepts a
``settings`` mapping, the prefix tests build a second cache sharing the same
store under another ``cache_prefix``; otherwise they are skipped, visibly.

TTL semantics are not optional. The suite asks a backend for nothing beyond
Kinto 26.5.0's cache contract unless the backend declares it: every ``set``
gives a ``ttl``, as Kinto's callers do, and the extensions follow the
backend's flags ``supports_set_without_ttl`` (``ttl=None`` keeps a value until
it is deleted), ``supports_delete_prefix`` and ``supports_concurrent_processes``.

One module a little over 500 lines, on purpose: the cache contract is small (eight
methods), so each of its topics is a handful of tests on the same few keys, read best
beside the others; the storage and permission suites, three times larger, are packages.
"""

from __future__ import annotations

import math
import time
from typing import Any, ClassVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kinto.core.cache import CacheBase
from kinto.core.testing.metrics import RecordingMetricsService
from kinto.core.testing.plugin import (
    CONTRACT_HEALTH_CHECKS,
    build_unflushed,
    build_with_settings,
    require_flag,
    run_in_processes,
    run_in_threads,
)

__all__ = ["CacheContract", "json_values"]

# Long enough that a test never sees these keys expire, short enough to be obviously finite.
LONG_TTL = 3600
# Expiry tests set this TTL and then sleep for EXPIRY_WAIT: the key is certainly gone by then.
SHORT_TTL = 0.05
EXPIRY_WAIT = 0.15

#: JSON values as they round-trip (finite floats, string keys, lists not tuples).
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=20,
)

SAMPLE_VALUES = [
    pytest.param("a string", id="str"),
    pytest.param("", id="empty-str"),
    pytest.param("h\u00e9t\u00e9rog\u00e8ne \u65e5\u672c \U0001f600", id="unicode"),
    pytest.param("quote ' double \" backslash \\ percent % underscore _ star *", id="sql-specials"),
    pytest.param("nul \x00 inside", id="nul-in-value"),
    pytest.param(0, id="zero"),
    pytest.param(42, id="int"),
    pytest.param(-7, id="negative-int"),
    pytest.param(2**62, id="big-int"),
    pytest.param(3.25, id="float"),
    pytest.param(-0.5, id="negative-float"),
    pytest.param(True, id="true"),
    pytest.param(False, id="false"),
    pytest.param([], id="empty-list"),
    pytest.param({}, id="empty-dict"),
    pytest.param([1, "two", 3.0, None, True], id="mixed-list"),
    pytest.param({"a": {"b": {"c": [1, {"d": None}]}}}, id="nested-dict"),
    pytest.param({"token": "abc", "scope": ["profile", "kinto"], "exp": 1700000000}, id="dict"),
]

NOT_JSON = [
    pytest.param(b"bytes", id="bytes"),
    pytest.param({1, 2}, id="set"),
    pytest.param(object(), id="object"),
    pytest.param(math.nan, id="nan"),
    pytest.param(math.inf, id="infinity"),
    pytest.param({"nested": b"bytes"}, id="nested-bytes"),
    pytest.param([1, object()], id="nested-object"),
]


class CacheContract:
    """The behaviour every ``CacheBase`` implementation must show."""

    pytestmark: ClassVar[list[Any]] = [pytest.mark.contract]

    @pytest.fixture
    def cache(self, backend_factory: Any) -> CacheBase:
        return backend_factory()

    def other_cache(self, backend_factory: Any, prefix: str) -> CacheBase:
        return build_with_settings(backend_factory, {"cache_prefix": prefix})

    # -- the object -------------------------------------------------------

    def test_backend_implements_the_cache_contract(self, cache):
        assert isinstance(cache, CacheBase)
        assert isinstance(cache.prefix, str)

    def test_initialize_schema_is_idempotent(self, cache):
        cache.initialize_schema()
        cache.initialize_schema()
        cache.set("after-schema", 1, LONG_TTL)
        assert cache.get("after-schema") == 1

    def test_initialize_schema_dry_run_keeps_data(self, cache):
        cache.set("kept", "yes", LONG_TTL)
        cache.initialize_schema(dry_run=True)
        assert cache.get("kept") == "yes"

    def test_heartbeat_is_true_when_the_backend_answers(self, cache):
        assert cache.heartbeat() is True

    def test_get_reports_hits_and_misses_to_the_metrics_backend(self, cache):
        service = RecordingMetricsService()
        cache.set_metrics_backend(service)
        cache.get("missing")
        cache.set("present", "value", LONG_TTL)
        cache.set("expired", "value", 0)
        cache.get("present")
        cache.get("expired")
        counted = (service.counted("cache_hits"), service.counted("cache_misses"))
        if counted == (0, 0):
            # A backend that does not report still works (only a metrics plugin's cache_hits and
            # cache_misses stay at zero), and backends written before this check must keep passing.
            pytest.skip(f"{type(cache).__qualname__}.get never calls metrics_backend.count_hit/count_miss")
        assert counted == (1, 2)

    # -- set and get ----------------------------------------------------------

    def test_a_missing_key_is_none(self, cache):
        assert cache.get("missing") is None

    @pytest.mark.parametrize("value", SAMPLE_VALUES)
    def test_a_value_set_is_the_value_got(self, cache, value):
        cache.set("key", value, LONG_TTL)
        got = cache.get("key")
        assert got == value
        assert type(got) is type(value)

    @pytest.mark.parametrize("value", SAMPLE_VALUES)
    def test_a_value_set_without_ttl_is_the_value_got(self, cache, value):
        require_flag(cache, "supports_set_without_ttl")
        cache.set("key", value)
        assert cache.get("key") == value

    def test_a_dict_set_is_a_dict_got_not_its_serialisation(self, cache):
        cache.set("dict", {"a": 1}, LONG_TTL)
        got = cache.get("dict")
        assert isinstance(got, dict)
        assert got == {"a": 1}

    def test_values_round_trip_as_json(self, cache):
        cache.set("tuple", (1, 2), LONG_TTL)
        cache.set("int-keys", {1: "one"}, LONG_TTL)
        assert cache.get("tuple") == [1, 2]
        assert cache.get("int-keys") == {"1": "one"}

    def test_none_is_stored_and_reads_as_missing(self, cache):
        cache.set("none", None, LONG_TTL)
        assert cache.get("none") is None

    def test_a_large_value_round_trips(self, cache):
        value = {"blob": "x" * 200_000, "items": list(range(2000))}
        cache.set("large", value, LONG_TTL)
        assert cache.get("large") == value

    def test_mutating_a_value_after_set_does_not_change_the_cache(self, cache):
        value = {"list": [1]}
        cache.set("key", value, LONG_TTL)
        value["list"].append(2)
        value["new"] = True
        assert cache.get("key") == {"list": [1]}

    def test_mutating_a_value_got_does_not_change_the_cache(self, cache):
        cache.set("key", {"list": [1]}, LONG_TTL)
        got = cache.get("key")
        got["list"].append(2)
        assert cache.get("key") == {"list": [1]}

    @pytest.mark.parametrize("value", NOT_JSON)
    def test_a_value_that_is_not_json_raises_type_error_and_stores_nothing(self, cache, value):
        with pytest.raises(TypeError):
            cache.set("key", value, LONG_TTL)
        assert cache.get("key") is None

    def test_a_failed_set_leaves_the_previous_value(self, cache):
        cache.set("key", "before", LONG_TTL)
        with pytest.raises(TypeError):
            cache.set("key", b"after", LONG_TTL)
        assert cache.get("key") == "before"

    def test_set_overwrites_the_previous_value(self, cache):
        cache.set("key", "one", LONG_TTL)
        cache.set("key", {"two": 2}, LONG_TTL)
        assert cache.get("key") == {"two": 2}

    def test_keys_are_distinct_and_case_sensitive(self, cache):
        cache.set("Key", 1, LONG_TTL)
        cache.set("key", 2, LONG_TTL)
        cache.set("KEY", 3, LONG_TTL)
        assert [cache.get("Key"), cache.get("key"), cache.get("KEY")] == [1, 2, 3]

    @pytest.mark.parametrize(
        "key",
        [
            pytest.param("", id="empty"),
            pytest.param("k" * 1000, id="long"),
            pytest.param("cl\u00e9 \u65e5\u672c \U0001f511", id="unicode"),
            pytest.param("a%b_c*d?e[f]g'h\"i\\j", id="wildcards-and-quotes"),
            pytest.param("fxa:token:scope with spaces", id="colons-and-spaces"),
            pytest.param("\n\t", id="control-characters"),
        ],
    )
    def test_any_text_key_works(self, cache, key):
        cache.set(key, {"for": key}, LONG_TTL)
        assert cache.get(key) == {"for": key}
        assert cache.delete(key) == {"for": key}
        assert cache.get(key) is None

    def test_keys_with_wildcard_characters_are_literal(self, cache):
        cache.set("a%", 1, LONG_TTL)
        cache.set("a_", 2, LONG_TTL)
        cache.set("a*", 3, LONG_TTL)
        assert cache.get("ab") is None
        assert cache.get("a") is None
        assert cache.delete("a?") is None
        assert [cache.get("a%"), cache.get("a_"), cache.get("a*")] == [1, 2, 3]

    def test_a_key_containing_nul_raises_value_error(self, cache):
        with pytest.raises(ValueError):
            cache.set("bad\x00key", 1, LONG_TTL)

    def test_many_keys_are_kept_independently(self, cache):
        for index in range(200):
            cache.set(f"many-{index}", {"index": index}, LONG_TTL)
        assert all(cache.get(f"many-{index}") == {"index": index} for index in range(200))

    @settings(max_examples=40, deadline=None, suppress_health_check=CONTRACT_HEALTH_CHECKS)
    @given(
        key=st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")),
        value=json_values,
    )
    def test_any_json_value_round_trips_under_any_key(self, cache, key, value):
        cache.set(key, value, LONG_TTL)
        assert cache.get(key) == value
        assert cache.delete(key) == value

    # -- ttl ----------------------------------------------------------------

    def test_ttl_of_a_missing_key_is_minus_one(self, cache):
        assert cache.ttl("missing") == -1

    def test_ttl_of_a_key_without_expiry_is_minus_one(self, cache):
        require_flag(cache, "supports_set_without_ttl")
        cache.set("forever", 1)
        assert cache.ttl("forever") == -1

    def test_ttl_of_a_key_set_with_ttl_none_is_minus_one(self, cache):
        require_flag(cache, "supports_set_without_ttl")
        cache.set("forever", 1, None)
        assert cache.ttl("forever") == -1
        assert cache.get("forever") == 1

    def test_ttl_returns_the_seconds_left(self, cache):
        cache.set("key", 1, 100)
        left = cache.ttl("key")
        assert 90 < left <= 100

    def test_float_ttls_are_honoured(self, cache):
        cache.set("key", 1, 2.5)
        left = cache.ttl("key")
        assert 0 < left <= 2.5
        assert cache.get("key") == 1

    def test_ttl_decreases_as_time_passes(self, cache):
        cache.set("key", 1, 100)
        first = cache.ttl("key")
        time.sleep(0.02)
        assert cache.ttl("key") < first

    def test_a_ttl_of_zero_is_never_returned(self, cache):
        cache.set("key", "value", 0)
        assert cache.get("key") is None
        assert cache.ttl("key") == -1
        assert cache.delete("key") is None

    @pytest.mark.parametrize("ttl", [-1, -0.001, -3600])
    def test_a_negative_ttl_is_never_returned(self, cache, ttl):
        cache.set("key", "value", ttl)
        assert cache.get("key") is None
        assert cache.ttl("key") == -1

    def test_a_zero_ttl_set_replaces_a_live_value_by_nothing(self, cache):
        cache.set("key", "old", LONG_TTL)
        cache.set("key", "new", 0)
        assert cache.get("key") is None

    def test_expired_keys_are_never_returned(self, cache):
        cache.set("short", "value", SHORT_TTL)
        cache.set("long", "value", LONG_TTL)
        time.sleep(EXPIRY_WAIT)
        assert cache.get("short") is None
        assert cache.ttl("short") == -1
        assert cache.delete("short") is None
        assert cache.get("long") == "value"

    def test_only_the_expired_keys_of_many_disappear(self, cache):
        for index in range(20):
            cache.set(f"short-{index}", index, SHORT_TTL)
            cache.set(f"long-{index}", index, LONG_TTL)
        time.sleep(EXPIRY_WAIT)
        assert [cache.get(f"short-{index}") for index in range(20)] == [None] * 20
        assert [cache.get(f"long-{index}") for index in range(20)] == list(range(20))

    def test_setting_again_without_ttl_removes_the_expiry(self, cache):
        require_flag(cache, "supports_set_without_ttl")
        cache.set("key", 1, SHORT_TTL)
        cache.set("key", 2)
        assert cache.ttl("key") == -1
        time.sleep(EXPIRY_WAIT)
        assert cache.get("key") == 2

    def test_setting_again_with_a_ttl_replaces_the_expiry(self, cache):
        cache.set("key", 1, LONG_TTL)
        cache.set("key", 2, 10)
        assert 0 < cache.ttl("key") <= 10

    def test_an_expired_key_can_be_set_again(self, cache):
        cache.set("key", "old", SHORT_TTL)
        time.sleep(EXPIRY_WAIT)
        cache.set("key", "new", LONG_TTL)
        assert cache.get("key") == "new"
        assert LONG_TTL - 10 < cache.ttl("key") <= LONG_TTL

    # -- expire ---------------------------------------------------------------

    def test_expire_gives_an_existing_key_a_ttl(self, cache):
        cache.set("key", "value", LONG_TTL)
        cache.expire("key", 100)
        assert 90 < cache.ttl("key") <= 100
        assert cache.get("key") == "value"

    def test_expire_accepts_float_ttls(self, cache):
        cache.set("key", "value", LONG_TTL)
        cache.expire("key", 1.5)
        assert 0 < cache.ttl("key") <= 1.5

    def test_expire_on_a_missing_key_does_nothing(self, cache):
        cache.expire("missing", 100)
        assert cache.get("missing") is None
        assert cache.ttl("missing") == -1

    def test_expire_with_zero_expires_the_key_now(self, cache):
        cache.set("key", "value", LONG_TTL)
        cache.expire("key", 0)
        assert cache.get("key") is None
        assert cache.ttl("key") == -1

    def test_expire_with_a_negative_ttl_expires_the_key_now(self, cache):
        cache.set("key", "value", LONG_TTL)
        cache.expire("key", -5)
        assert cache.get("key") is None

    def test_expire_can_shorten_a_ttl(self, cache):
        cache.set("key", "value", LONG_TTL)
        cache.expire("key", SHORT_TTL)
        time.sleep(EXPIRY_WAIT)
        assert cache.get("key") is None

    def test_expire_can_extend_a_ttl(self, cache):
        cache.set("key", "value", SHORT_TTL)
        cache.expire("key", LONG_TTL)
        time.sleep(EXPIRY_WAIT)
        assert cache.get("key") == "value"

    def test_expire_does_not_revive_an_expired_key(self, cache):
        cache.set("key", "value", SHORT_TTL)
        time.sleep(EXPIRY_WAIT)
        cache.expire("key", LONG_TTL)
        assert cache.get("key") is None
        assert cache.ttl("key") == -1

    def test_expire_keeps_the_value(self, cache):
        cache.set("key", {"kept": [1, 2]}, LONG_TTL)
        cache.expire("key", LONG_TTL)
        assert cache.get("key") == {"kept": [1, 2]}

    # -- delete -----------------------------------------------------------

    def test_delete_returns_the_value_it_removed(self, cache):
        cache.set("key", {"a": [1, 2]}, LONG_TTL)
        assert cache.delete("key") == {"a": [1, 2]}
        assert cache.get("key") is None

    def test_delete_of_a_missing_key_returns_none(self, cache):
        assert cache.delete("missing") is None

    def test_delete_twice_returns_none_the_second_time(self, cache):
        cache.set("key", 1, LONG_TTL)
        assert cache.delete("key") == 1
        assert cache.delete("key") is None

    def test_delete_removes_the_ttl(self, cache):
        cache.set("key", 1, LONG_TTL)
        cache.delete("key")
        assert cache.ttl("key") == -1

    def test_delete_leaves_other_keys(self, cache):
        cache.set("a", 1, LONG_TTL)
        cache.set("ab", 2, LONG_TTL)
        cache.delete("a")
        assert cache.get("ab") == 2

    # -- flush ------------------------------------------------------------

    def test_flush_removes_every_key(self, cache):
        for index in range(10):
            cache.set(f"key-{index}", index, LONG_TTL + index)
        cache.flush()
        assert [cache.get(f"key-{index}") for index in range(10)] == [None] * 10
        assert cache.ttl("key-1") == -1

    def test_the_cache_works_after_a_flush(self, cache):
        cache.set("key", 1, LONG_TTL)
        cache.flush()
        cache.set("key", 2, LONG_TTL)
        assert cache.get("key") == 2

    # -- prefix ---------------------------------------------------------------

    def test_the_prefix_setting_is_honoured(self, backend_factory):
        cache = self.other_cache(backend_factory, "isolated:")
        assert cache.prefix == "isolated:"

    def test_caches_with_different_prefixes_do_not_see_each_other(self, backend_factory):
        first = self.other_cache(backend_factory, "first:")
        second = self.other_cache(backend_factory, "second:")
        first.set("key", "first value", LONG_TTL)
        assert second.get("key") is None
        second.set("key", "second value", LONG_TTL)
        assert first.get("key") == "first value"
        assert second.get("key") == "second value"

    def test_delete_ttl_and_expire_stay_within_the_prefix(self, backend_factory):
        first = self.other_cache(backend_factory, "first:")
        second = self.other_cache(backend_factory, "second:")
        first.set("key", 1, LONG_TTL)
        second.set("key", 2, 100)
        assert 0 < second.ttl("key") <= 100
        second.expire("key", 0)
        assert first.get("key") == 1
        assert second.delete("key") is None
        assert first.delete("key") == 1

    def test_flush_stays_within_the_prefix(self, backend_factory):
        first = self.other_cache(backend_factory, "first:")
        second = self.other_cache(backend_factory, "second:")
        first.set("key", 1, LONG_TTL)
        second.set("key", 2, LONG_TTL)
        second.flush()
        assert first.get("key") == 1
        assert second.get("key") is None

    def test_a_prefix_with_wildcard_characters_is_literal(self, backend_factory):
        wild = self.other_cache(backend_factory, "a%_*:")
        plain = self.other_cache(backend_factory, "ab_x:")
        plain.set("key", "plain", LONG_TTL)
        wild.set("key", "wild", LONG_TTL)
        wild.flush()
        assert plain.get("key") == "plain"
        assert wild.get("key") is None

    # -- delete_prefix ------------------------------------------------------

    @pytest.mark.parametrize(
        ("keys", "prefix", "removed"),
        [
            (["user:1:a", "user:1:b", "user:10:a", "user:2:a", "other"], "user:1:", ["user:1:a", "user:1:b"]),
            (["key"], "nothing", []),
            (["a%1", "ab1", "a_1", "a*1"], "a%", ["a%1"]),
            (["a%1", "ab1", "a_1", "a*1"], "a*", ["a*1"]),
            (["Token:1", "token:1"], "token:", ["token:1"]),
            (["a", "b"], "", ["a", "b"]),
        ],
        ids=["matching-keys", "no-match", "percent-literal", "star-literal", "case-sensitive", "empty-prefix"],
    )
    def test_delete_prefix_removes_the_keys_it_names_and_counts_them(self, cache, keys, prefix, removed):
        require_flag(cache, "supports_delete_prefix")
        for key in keys:
            cache.set(key, key, LONG_TTL)
        assert cache.delete_prefix(prefix) == len(removed)
        assert {key: cache.get(key) for key in keys} == {key: None if key in removed else key for key in keys}

    def test_delete_prefix_does_not_count_expired_keys(self, cache):
        require_flag(cache, "supports_delete_prefix")
        cache.set("p:expired", 1, SHORT_TTL)
        cache.set("p:live", 2, LONG_TTL)
        time.sleep(EXPIRY_WAIT)
        assert cache.delete_prefix("p:") == 1
        assert cache.get("p:live") is None

    def test_delete_prefix_stays_within_the_cache_prefix(self, backend_factory):
        first = self.other_cache(backend_factory, "first:")
        require_flag(first, "supports_delete_prefix")
        second = self.other_cache(backend_factory, "second:")
        first.set("key", 1, LONG_TTL)
        second.set("key", 2, LONG_TTL)
        assert second.delete_prefix("") == 1
        assert first.get("key") == 1

    # -- concurrency --------------------------------------------------------

    def test_threads_writing_at_once_lose_no_key(self, cache):
        def write(thread: int) -> None:
            for index in range(25):
                cache.set(f"thread-{thread}-{index}", [thread, index], LONG_TTL)
                cache.set("shared", thread, LONG_TTL)

        run_in_threads(write, count=6)
        assert all(cache.get(f"thread-{t}-{i}") == [t, i] for t in range(6) for i in range(25))
        assert cache.get("shared") in range(6)

    def test_processes_writing_at_once_lose_no_key(self, cache, backend_factory):
        require_flag(cache, "supports_concurrent_processes")

        def write(process: int, mine: CacheBase) -> None:
            for index in range(40):
                mine.set(f"process-{process}-{index}", {"p": process, "i": index}, LONG_TTL)
                mine.set("shared", process, LONG_TTL)

        run_in_processes(write, count=2, prepare=lambda process: build_unflushed(backend_factory))
        assert all(cache.get(f"process-{p}-{i}") == {"p": p, "i": i} for p in range(2) for i in range(40))
        assert cache.get("shared") in (0, 1)

    def test_another_process_sees_values_expiries_and_flushes(self, cache, backend_factory):
        require_flag(cache, "supports_concurrent_processes")

        def in_another_process(check: Any) -> None:
            run_in_processes(
                lambda _, theirs: check(theirs), count=1, prepare=lambda _: build_unflushed(backend_factory)
            )

        cache.set("from-here", {"n": 1}, LONG_TTL)
        cache.set("expiring", "soon", LONG_TTL)

        def reads_ours_and_writes(theirs: CacheBase) -> None:
            assert theirs.get("from-here") == {"n": 1}
            assert LONG_TTL - 60 < theirs.ttl("expiring") <= LONG_TTL
            theirs.set("from-there", [2], LONG_TTL)
            theirs.expire("expiring", SHORT_TTL)

        in_another_process(reads_ours_and_writes)
        assert cache.get("from-there") == [2]
        time.sleep(EXPIRY_WAIT)
        assert cache.get("expiring") is None

        def flushes(theirs: CacheBase) -> None:
            theirs.flush()

        in_another_process(flushes)
        assert cache.get("from-here") is None
        assert cache.get("from-there") is None
