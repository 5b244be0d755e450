"""Loading the backend from settings: defaults, both spellings, environment overrides, entry point."""

from __future__ import annotations

from typing import Any

import pytest
from kinto.core.backends import load_backend, resolve_backend_module
from pyramid.config import Configurator

import kinto_riak.cache
from kinto_riak.cache import DEFAULT_URL, RiakCache, load_from_config
from kinto_riak.testing import RiakStandIn


def _load(settings: dict[str, Any]) -> RiakCache:
    return load_from_config(Configurator(settings=settings))


def test_defaults_apply_when_nothing_is_configured() -> None:
    config = Configurator(settings={})
    cache = load_from_config(config)
    settings = config.get_settings()
    assert cache.kv.url == DEFAULT_URL
    assert cache.prefix == ""
    assert settings["kinto_riak.bucket_type"] == "default"
    assert settings["kinto_riak.bucket"] == "kinto_cache"
    assert settings["kinto_riak.pool_size"] == 10
    assert settings["kinto_riak.read_timeout_seconds"] == 2.0


@pytest.mark.parametrize("spelling", ["cache_url", "kinto.cache_url"])
def test_the_url_and_prefix_are_read_in_either_spelling(standin: RiakStandIn, spelling: str) -> None:
    prefix_key = spelling.replace("url", "prefix")
    cache = _load({spelling: standin.url, prefix_key: "stack1_", "kinto_riak.bucket": "b"})
    assert cache.kv.url == standin.url
    assert cache.prefix == "stack1_"
    cache.set("key", "value")
    assert standin.keys("default", "b") == ["stack1_5Fkey"]


def test_settings_are_coerced_to_their_defaults_types(standin: RiakStandIn) -> None:
    config = Configurator(settings={"cache_url": standin.url, "kinto_riak.pool_size": "3"})
    load_from_config(config)
    assert config.get_settings()["kinto_riak.pool_size"] == 3


def test_the_environment_overrides_the_bucket(standin: RiakStandIn, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KINTO_RIAK_BUCKET", "from_env")
    monkeypatch.setenv("KINTO_RIAK_BUCKET_TYPE", "typed")
    cache = _load({"cache_url": standin.url, "kinto_riak.bucket": "from_file"})
    cache.set("key", 1)
    assert standin.keys("typed", "from_env") == ["key"]


def test_the_short_name_riak_names_this_module() -> None:
    assert resolve_backend_module("riak", "cache") is kinto_riak.cache


def test_the_core_loads_it_by_dotted_name_or_short_name(standin: RiakStandIn) -> None:
    for name in ("kinto_riak.cache", "riak"):
        config = Configurator(settings={"cache_backend": name, "cache_url": standin.url})
        assert isinstance(load_backend(config, "cache"), RiakCache)


def test_loading_does_not_need_riak_to_be_up() -> None:
    cache = _load({"cache_url": "http://127.0.0.1:1"})
    assert cache.heartbeat() is False
