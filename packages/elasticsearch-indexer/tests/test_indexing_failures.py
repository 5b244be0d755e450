"""An indexer that fails: writes still succeed, searches answer 503, the heartbeat tells."""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable
from typing import Any

import pytest
import webtest
from indexing_helpers import ALICE, BASE_SETTINGS, post_article
from kinto.core.testing import make_app

from kinto_elasticsearch.elasticsearch import ElasticsearchIndexer
from kinto_elasticsearch.indexer import BulkOperation, IndexerUnavailable, SearchError


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def down_app() -> webtest.TestApp:
    """An application whose Elasticsearch does not answer."""
    settings = {
        **BASE_SETTINGS,
        "kinto_elasticsearch.hosts": f"http://127.0.0.1:{closed_port()}",
        "kinto_elasticsearch.max_retries": "0",
        "kinto_elasticsearch.request_timeout_seconds": "1",
        "kinto_elasticsearch.indexing_timeout_seconds": "1",
        "retry_after_seconds": "7",
    }
    return make_app(settings, ["indexing_app", "kinto_elasticsearch"])


def test_writes_succeed_while_elasticsearch_is_down_and_failures_are_counted(
    down_app: webtest.TestApp, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="kinto_elasticsearch"):
        post_article(down_app, "kept", ALICE)
    assert down_app.get("/v1/articles", headers=ALICE).json["data"][0]["title"] == "kept"
    assert down_app.app.registry.indexer.stats.failures >= 1
    assert "reindex" in caplog.text


def test_searches_answer_503_with_retry_after_while_elasticsearch_is_down(down_app: webtest.TestApp) -> None:
    response = down_app.post_json("/v1/search/articles/", {}, headers=ALICE, status=503)
    assert response.json["errno"] == 201 and response.json["code"] == 503
    assert response.headers["Retry-After"] == "7"


def test_the_heartbeat_fails_while_elasticsearch_is_down(down_app: webtest.TestApp) -> None:
    response = down_app.get("/v1/__heartbeat__", status=503)
    assert response.json["indexer"] is False


def test_records_elasticsearch_refuses_are_reported_and_counted(
    make_es_indexer: Callable[..., ElasticsearchIndexer],
) -> None:
    indexer = make_es_indexer()
    indexer.create_index("c", "b", {"properties": {"n": {"type": "integer"}}})
    result = indexer.bulk(
        [
            BulkOperation(("b", "c"), "index", "good", {"id": "good", "n": 1, "__kinto__": {}}),
            BulkOperation(("b", "c"), "index", "bad", {"id": "bad", "n": {"a": 1}, "__kinto__": {}}),
        ]
    )
    assert result.succeeded == 1
    assert [record_id for record_id, _ in result.failures] == ["bad"]
    assert indexer.stats.failures == 1


def test_search_errors_of_elasticsearch_are_generic_and_their_reason_is_logged(
    make_es_indexer: Callable[..., ElasticsearchIndexer], caplog: pytest.LogCaptureFixture
) -> None:
    indexer = make_es_indexer()
    indexer.index_record("c", {"id": "1", "title": "text"}, "b")
    with caplog.at_level(logging.WARNING, logger="kinto_elasticsearch"), pytest.raises(SearchError) as raised:
        indexer.search("c", {"sort": ["title"]}, "b")
    assert indexer.name("c", "b") not in raised.value.message and indexer.prefix not in raised.value.message
    assert "keyword" in raised.value.message
    assert indexer.name("c", "b") in caplog.text


def test_versioned_media_types_refused_by_the_server_mean_unavailable_with_a_hint(
    make_es_indexer: Callable[..., ElasticsearchIndexer], elasticsearch_server: dict[str, Any]
) -> None:
    if elasticsearch_server["compatibility_headers"]:
        pytest.skip("a real Elasticsearch accepts its versioned media types")
    indexer = make_es_indexer(**{"kinto_elasticsearch.compatibility_headers": True})
    with pytest.raises(IndexerUnavailable, match="compatibility_headers"):
        indexer.search("c", {"query": {"match_all": {}}}, "b")
