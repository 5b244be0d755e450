"""Fixtures: indexers of both kinds, on an Elasticsearch-compatible server.

The server is osmem-server (an in-memory OpenSearch-compatible server started
once per session on a free port of 127.0.0.1, each test getting a fresh clone
of it), or a real Elasticsearch when ``ELASTICSEARCH_URL`` is set (each test
then works under an index prefix of its own, flushed afterwards).
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import webtest
from indexing_helpers import BASE_SETTINGS
from kinto.core.testing import make_app

from kinto_elasticsearch.dsl import SearchLimits
from kinto_elasticsearch.elasticsearch import ElasticsearchIndexer, build_client
from kinto_elasticsearch.embedded import EmbeddedIndexer
from kinto_elasticsearch.indexer import IndexerBase, IndexerUnavailable
from kinto_elasticsearch.settings import DEFAULT_SETTINGS

TEST_LIMITS = SearchLimits(default_size=10, max_size=50, max_result_window=100, max_clauses=64)


@pytest.fixture(scope="session")
def osmem() -> Iterator[Any]:
    """One osmem-server process for the session (clones give each test a cluster of its own)."""
    from osmem_server import OsmemServer

    server = OsmemServer.start(japanese=False, addr="127.0.0.1:0")
    yield server
    server.close()


@pytest.fixture
def elasticsearch_server(request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    """``{"url", "compatibility_headers", "prefix"}`` of the server the test may use."""
    real = os.environ.get("ELASTICSEARCH_URL")
    prefix = f"kinto-test-{uuid.uuid4().hex[:8]}"
    if real:
        yield {"url": real, "compatibility_headers": True, "prefix": prefix}
        return
    clone = request.getfixturevalue("osmem").clone()
    try:
        yield {"url": clone.url, "compatibility_headers": False, "prefix": prefix}
    finally:
        clone.close()


def es_settings(server: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    """Plugin settings pointing at ``server``, with test-friendly values."""
    settings = {key: value for key, value in DEFAULT_SETTINGS.items() if key.startswith("kinto_elasticsearch.")}
    settings.update(
        {
            "kinto_elasticsearch.hosts": [server["url"]],
            "kinto_elasticsearch.compatibility_headers": server["compatibility_headers"],
            "kinto_elasticsearch.index_prefix": server["prefix"],
            "kinto_elasticsearch.max_retries": 0,
        }
    )
    settings.update(overrides)
    return settings


@pytest.fixture
def make_es_indexer(elasticsearch_server: dict[str, Any]) -> Iterator[Callable[..., ElasticsearchIndexer]]:
    built: list[ElasticsearchIndexer] = []

    def make(limits: SearchLimits = TEST_LIMITS, refresh: bool = True, **overrides: Any) -> ElasticsearchIndexer:
        settings = es_settings(elasticsearch_server, **overrides)
        indexer = ElasticsearchIndexer(
            build_client(settings), prefix=settings["kinto_elasticsearch.index_prefix"], limits=limits, refresh=refresh
        )
        built.append(indexer)
        return indexer

    yield make
    for indexer in built:
        with contextlib.suppress(IndexerUnavailable):  # an indexer pointed at a dead server on purpose
            indexer.flush()


@pytest.fixture(params=["embedded", "elasticsearch"])
def backend_name(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def indexer(backend_name: str, request: pytest.FixtureRequest) -> IndexerBase:
    """An empty indexer of each kind (the same tests run on both)."""
    if backend_name == "embedded":
        return EmbeddedIndexer(TEST_LIMITS)
    return request.getfixturevalue("make_es_indexer")()


@pytest.fixture
def app_settings(backend_name: str, request: pytest.FixtureRequest) -> dict[str, Any]:
    """Settings of a test application indexing with each backend."""
    if backend_name == "embedded":
        return {**BASE_SETTINGS, "kinto.indexing_backend": "kinto_elasticsearch.embedded"}
    server = request.getfixturevalue("elasticsearch_server")
    return {
        **BASE_SETTINGS,
        "kinto.indexing_backend": "kinto_elasticsearch.elasticsearch",
        "kinto_elasticsearch.hosts": server["url"],
        "kinto_elasticsearch.compatibility_headers": str(server["compatibility_headers"]),
        "kinto_elasticsearch.index_prefix": server["prefix"],
        "kinto_elasticsearch.refresh_enabled": "true",
        "kinto_elasticsearch.max_retries": "0",
    }


@pytest.fixture
def make_search_app(app_settings: dict[str, Any]) -> Iterator[Callable[..., webtest.TestApp]]:
    """Build the test application (``indexing_app``'s resources) with extra settings."""
    built: list[webtest.TestApp] = []

    def make(**settings: Any) -> webtest.TestApp:
        app = make_app({**app_settings, **settings}, ["indexing_app", "kinto_elasticsearch"])
        built.append(app)
        return app

    yield make
    for app in built:
        with contextlib.suppress(IndexerUnavailable):
            app.app.registry.indexer.flush()


@pytest.fixture
def app(make_search_app: Callable[..., webtest.TestApp]) -> webtest.TestApp:
    return make_search_app()


# Loaded machines (CI shares two cores) make data generation slow: speed is not what these tests check.
from hypothesis import HealthCheck as _HealthCheck
from hypothesis import settings as _hypothesis_settings

_hypothesis_settings.register_profile("kinto", deadline=None, suppress_health_check=[_HealthCheck.too_slow])
_hypothesis_settings.load_profile("kinto")
