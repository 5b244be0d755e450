"""Fixtures of the search modules (items 2 and 10): the server with kinto_elasticsearch on both indexers.

``search_app(settings=None)`` builds the Kinto server (``make_app`` of the
conftest, on its parametrised storage backend) with ``kinto.includes =
kinto_elasticsearch`` and, by parametrisation, the embedded indexer or the
Elasticsearch indexer on osmem-server (an OpenSearch-compatible test server
started once per module on 127.0.0.1, each test on a clone of its own), or the
Elasticsearch at ``ELASTICSEARCH_URL`` when that is set.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import webtest

INDEXERS = ("embedded", "elasticsearch")


@pytest.fixture(scope="module")
def osmem() -> Iterator[Any]:
    if os.environ.get("ELASTICSEARCH_URL"):
        yield None
        return
    from osmem_server import OsmemServer

    server = OsmemServer.start(japanese=False, addr="127.0.0.1:0")
    yield server
    server.close()


def _elasticsearch_settings(request: pytest.FixtureRequest) -> Iterator[dict[str, str]]:
    server = request.getfixturevalue("osmem")
    clone = server.clone() if server is not None else None
    url = clone.url if clone is not None else os.environ["ELASTICSEARCH_URL"]
    yield {
        "kinto.indexing_backend": "kinto_elasticsearch.elasticsearch",
        "kinto_elasticsearch.hosts": url,
        "kinto_elasticsearch.compatibility_headers": "false" if clone is not None else "true",
        "kinto_elasticsearch.index_prefix": f"kinto-sec-{uuid.uuid4().hex[:8]}",
        "kinto_elasticsearch.refresh_enabled": "true",
        "kinto_elasticsearch.max_retries": "0",
    }
    if clone is not None:
        clone.close()


@pytest.fixture(params=INDEXERS)
def indexer_settings(request: pytest.FixtureRequest) -> Iterator[dict[str, str]]:
    if request.param == "embedded":
        yield {"kinto.indexing_backend": "kinto_elasticsearch.embedded"}
        return
    yield from _elasticsearch_settings(request)


@pytest.fixture
def elasticsearch_settings(request: pytest.FixtureRequest) -> Iterator[dict[str, str]]:
    """The Elasticsearch indexer only (for what only a search engine reports)."""
    yield from _elasticsearch_settings(request)


def _builder(
    make_app: Callable[..., webtest.TestApp], base: dict[str, str]
) -> tuple[Callable[..., webtest.TestApp], list[webtest.TestApp]]:
    built: list[webtest.TestApp] = []

    def build(settings: dict[str, Any] | None = None) -> webtest.TestApp:
        app = make_app({"kinto.includes": "kinto_elasticsearch", **base, **(settings or {})})
        built.append(app)
        return app

    return build, built


@pytest.fixture
def search_app(
    make_app: Callable[..., webtest.TestApp], indexer_settings: dict[str, str]
) -> Iterator[Callable[..., webtest.TestApp]]:
    build, built = _builder(make_app, indexer_settings)
    yield build
    for app in built:
        app.app.registry.indexer.flush()


@pytest.fixture
def es_search_app(
    make_app: Callable[..., webtest.TestApp], elasticsearch_settings: dict[str, str]
) -> Iterator[Callable[..., webtest.TestApp]]:
    build, built = _builder(make_app, elasticsearch_settings)
    yield build
    for app in built:
        app.app.registry.indexer.flush()


def search(
    app: webtest.TestApp, path: str, body: Any = None, headers: dict[str, str] | None = None, status: int | str = "*"
) -> webtest.TestResponse:
    """POST a search body to ``/v1<path>/search`` (any status unless told)."""
    return app.post_json(f"/v1{path}/search", body if body is not None else {}, headers=headers or {}, status=status)
