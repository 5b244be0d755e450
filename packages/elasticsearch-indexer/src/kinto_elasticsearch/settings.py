"""The plugin's settings and their defaults (the default's type is the setting's type).

Every key may be overridden from the environment by the core's rule:
``kinto_elasticsearch.refresh_enabled`` by ``KINTO_ELASTICSEARCH_REFRESH_ENABLED``,
``kinto.indexing_backend`` by ``KINTO_INDEXING_BACKEND``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kinto_elasticsearch.dsl import SearchLimits

__all__ = ["DEFAULT_SETTINGS", "search_limits"]

DEFAULT_SETTINGS: dict[str, Any] = {
    # Which indexer: a dotted module with load_from_config(config), or a short name of the
    # ``kinto.indexing`` entry-point group (elasticsearch, embedded).
    "indexing_backend": "kinto_elasticsearch.elasticsearch",
    # Elasticsearch
    "kinto_elasticsearch.hosts": ["http://localhost:9200"],
    "kinto_elasticsearch.index_prefix": "kinto",
    "kinto_elasticsearch.refresh_enabled": False,
    "kinto_elasticsearch.request_timeout_seconds": 5.0,
    "kinto_elasticsearch.indexing_timeout_seconds": 2.0,
    "kinto_elasticsearch.max_retries": 1,
    # Elasticsearch clients send versioned media types (compatible-with=N); OpenSearch and
    # other compatible servers want plain application/json: set it to false for them.
    "kinto_elasticsearch.compatibility_headers": True,
    "kinto_elasticsearch.api_key": "",
    "kinto_elasticsearch.ca_certs": "",
    "kinto_elasticsearch.verify_certs": True,
    # Search limits
    "kinto_elasticsearch.default_size": 10,
    "kinto_elasticsearch.max_size": 1000,
    "kinto_elasticsearch.max_result_window": 10000,
    "kinto_elasticsearch.max_clauses": 1024,
    # Elasticsearch scores with the term statistics of the whole index: true lets callers who may read
    # part of a collection only get those scores (they leak how many records hold a word); false
    # (default) gives their hits a constant score.
    "kinto_elasticsearch.index_wide_scores": False,
    # Which resources of a kinto.core application are indexed (empty: all of them).
    "kinto_elasticsearch.resources": [],
    # Key of the hashes under which read principals are indexed (empty: a key derived from userid_hmac_secret).
    "kinto_elasticsearch.principals_secret": "",
    # Embedded indexer: sqlite:///path/to/search.sqlite to persist it (empty: memory).
    "kinto_elasticsearch.embedded_url": "",
}

#: What each setting of ``DEFAULT_SETTINGS`` does (the documentation's settings table).
SETTING_DESCRIPTIONS: dict[str, str] = {
    "indexing_backend": "the indexer: a module with `load_from_config(config)`, or `elasticsearch` / `embedded`",
    "kinto_elasticsearch.hosts": "the Elasticsearch nodes",
    "kinto_elasticsearch.index_prefix": "prefix of index names (one per application sharing a cluster)",
    "kinto_elasticsearch.refresh_enabled": "make each write visible to searches before answering it",
    "kinto_elasticsearch.request_timeout_seconds": "timeout of searches and of the heartbeat",
    "kinto_elasticsearch.indexing_timeout_seconds": "timeout of writes to the index (on the request's path)",
    "kinto_elasticsearch.max_retries": "retries on another node after a connection error",
    "kinto_elasticsearch.compatibility_headers": "send Elasticsearch's versioned media types; false for OpenSearch and other compatible servers",
    "kinto_elasticsearch.api_key": "API key sent to Elasticsearch",
    "kinto_elasticsearch.ca_certs": "CA bundle checking Elasticsearch's certificate",
    "kinto_elasticsearch.verify_certs": "check Elasticsearch's TLS certificate",
    "kinto_elasticsearch.default_size": "hits per page when the body gives no `size`",
    "kinto_elasticsearch.max_size": "largest `size` accepted",
    "kinto_elasticsearch.max_result_window": "largest `from + size` accepted",
    "kinto_elasticsearch.max_clauses": "query clauses one body may hold",
    "kinto_elasticsearch.index_wide_scores": "score the hits of callers who may read part of a collection with the whole index's statistics (leaks word counts); false: a constant score",
    "kinto_elasticsearch.resources": "resources of a kinto.core application to index (empty: all)",
    "kinto_elasticsearch.principals_secret": "key of the hashes read principals are indexed under (empty: derived from `userid_hmac_secret`); reindex after changing it",
    "kinto_elasticsearch.embedded_url": "`sqlite:///path` persists the embedded indexer (empty: memory)",
}


def search_limits(settings: Mapping[str, Any]) -> SearchLimits:
    """The search caps configured in ``settings`` (after ``load_default_settings`` with this table)."""

    def read(name: str) -> int:
        return settings[f"kinto_elasticsearch.{name}"]

    return SearchLimits(
        default_size=read("default_size"),
        max_size=read("max_size"),
        max_result_window=read("max_result_window"),
        max_clauses=read("max_clauses"),
    )
