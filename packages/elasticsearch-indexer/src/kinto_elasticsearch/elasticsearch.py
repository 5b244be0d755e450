"""The default indexer, on Elasticsearch (8.x or 9.x) through the official client.

One index per collection, named by :func:`~kinto_elasticsearch.indexer.index_name`
(``<prefix>-<bucket>-<collection>``), with no mapping type (they were removed in
Elasticsearch 8). An index template for ``<prefix>-*`` maps the reserved
``__kinto__`` field, ``id`` and ``last_modified`` in every index, even one
Elasticsearch creates on its own when a document arrives first.

Timeouts are short for writes (``indexing_timeout_seconds``: they run on the
request path, after the commit) and longer for searches
(``request_timeout_seconds``). Connection failures and 5xx answers raise
:class:`~kinto_elasticsearch.indexer.IndexerUnavailable`; 4xx answers raise
:class:`~kinto_elasticsearch.indexer.SearchError`, with Elasticsearch's reason
except for searches: their reason names indexes and mappings, so it is logged
and the client gets a generic message.

Searches get the permission filter on the query and its sub-queries
(:func:`~kinto_elasticsearch.dsl.with_filters`). Elasticsearch scores with term
statistics of the whole index, records the caller may not read included: for
a caller who may read part of the collection only, hits therefore all score
1.0 unless ``kinto_elasticsearch.index_wide_scores`` is true.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import elasticsearch
from elastic_transport import Transport

from kinto_elasticsearch.dsl import SearchLimits, validate_search_body, with_filters
from kinto_elasticsearch.indexer import (
    BASE_PROPERTIES,
    RESERVED_FIELD,
    BulkOperation,
    BulkResult,
    IndexerBase,
    IndexerUnavailable,
    IndexKey,
    SearchError,
    index_key,
    index_name,
    parse_index_name,
)
from kinto_elasticsearch.settings import search_limits

__all__ = ["BASE_PROPERTIES", "ElasticsearchIndexer", "PlainJsonTransport", "load_from_config"]

logger = logging.getLogger(__name__)

_SCHEMA_KEYS = ("properties", "dynamic", "dynamic_templates", "date_detection", "numeric_detection")
_BULK_CHUNK = 500
_DELETE_CHUNK = 50
_SEARCH_REFUSED = (
    "The search engine refused this search (a frequent cause: sorting or aggregating on a text field, "
    "where its .keyword subfield is needed)"
)
_VERSIONED_MEDIA_TYPE = re.compile(r"application/vnd\.elasticsearch\+([a-z-]+)(?:;\s*compatible-with=\d+)?")


class PlainJsonTransport(Transport):
    """A transport sending ``application/json`` where the client would send Elasticsearch's
    versioned media types, which OpenSearch and other compatible servers refuse (406)."""

    def perform_request(self, method: str, target: str, **kwargs: Any) -> Any:  # type: ignore[override]
        headers = kwargs.get("headers")
        if headers:
            kwargs["headers"] = {
                name: _VERSIONED_MEDIA_TYPE.sub(r"application/\1", value) if isinstance(value, str) else value
                for name, value in headers.items()
            }
        return super().perform_request(method, target, **kwargs)


def _reason(error: elasticsearch.ApiError) -> str:
    body = error.body if isinstance(error.body, Mapping) else {}
    details = body.get("error")
    if isinstance(details, Mapping):
        causes = details.get("root_cause") or []
        cause = causes[0] if causes and isinstance(causes[0], Mapping) else details
        caused_by = details.get("caused_by")
        if isinstance(caused_by, Mapping) and details.get("type") == "search_phase_execution_exception":
            cause = caused_by
        return f"{cause.get('type', 'error')}: {cause.get('reason', '')}".strip()
    return str(error.message or error)


@contextlib.contextmanager
def _translated(action: str) -> Iterator[None]:
    """Turn the client's errors into the indexer contract's."""
    try:
        yield
    except elasticsearch.ApiError as error:
        status = error.meta.status
        if status == 406:  # the server refuses the client's media types: a configuration problem, not the client's
            raise IndexerUnavailable(
                f"Elasticsearch refused the media type to {action} ({_reason(error)}); for OpenSearch and other "
                "compatible servers, set kinto_elasticsearch.compatibility_headers = false"
            ) from error
        if status >= 500 or status in (401, 403, 408, 429):
            raise IndexerUnavailable(f"Elasticsearch failed to {action}: {_reason(error)}") from error
        raise SearchError(_reason(error)) from error
    except elasticsearch.TransportError as error:
        raise IndexerUnavailable(f"Elasticsearch unreachable to {action}: {error}") from error


def _schema_mapping(schema: Mapping[str, Any] | None) -> dict[str, Any]:
    if not schema:
        return {}
    if not isinstance(schema, Mapping):
        raise SearchError("the index schema must be an object")
    unknown = sorted(set(schema) - set(_SCHEMA_KEYS))
    if unknown:
        logger.warning("Ignoring unsupported keys of an index schema: %s", ", ".join(unknown))
    mapping = {key: schema[key] for key in _SCHEMA_KEYS if key in schema}
    properties = mapping.get("properties", {})
    if not isinstance(properties, Mapping):
        raise SearchError("the index schema's properties must be an object")
    mapping["properties"] = {name: spec for name, spec in properties.items() if name != RESERVED_FIELD}
    return mapping


class ElasticsearchIndexer(IndexerBase):
    """Indexes collections in Elasticsearch, one index each under ``prefix``."""

    def __init__(
        self,
        client: elasticsearch.Elasticsearch,
        prefix: str = "kinto",
        *,
        limits: SearchLimits | None = None,
        refresh: bool = False,
        indexing_timeout: float = 2.0,
        search_timeout: float = 5.0,
        index_wide_scores: bool = False,
    ) -> None:
        super().__init__()
        self.client = client
        self.prefix = prefix
        self.limits = limits or SearchLimits()
        self.refresh_enabled = refresh
        self.indexing_timeout = indexing_timeout
        self.search_timeout = search_timeout
        self.index_wide_scores = index_wide_scores
        self._template_ready = False
        self._write_client: elasticsearch.Elasticsearch | None = None
        self._read_client: elasticsearch.Elasticsearch | None = None

    def _writer(self) -> elasticsearch.Elasticsearch:
        if self._write_client is None:
            self._write_client = self.client.options(request_timeout=self.indexing_timeout)
        return self._write_client

    def _reader(self) -> elasticsearch.Elasticsearch:
        if self._read_client is None:
            self._read_client = self.client.options(request_timeout=self.search_timeout)
        return self._read_client

    def name(self, collection_id: str, bucket_id: str | None = None) -> str:
        """The index name of a collection."""
        return index_name(self.prefix, index_key(collection_id, bucket_id))

    # --- lifecycle ---

    def initialize_schema(self, dry_run: bool = False) -> None:
        """Install the index template mapping the reserved fields of every index under the prefix."""
        if dry_run:
            logger.info("Would install the index template %s-* for the reserved fields", self.prefix)
            return
        with _translated("install the index template"):
            self._writer().indices.put_index_template(
                name=self._template_name(),
                index_patterns=[f"{self.prefix}-*"],
                # Elasticsearch refuses overlapping patterns of equal priority ("kinto-*" and
                # "kinto-staging-*"): the longer, more specific prefix wins.
                priority=100 + len(self.prefix),
                template={"mappings": {"properties": BASE_PROPERTIES}},
                meta={"description": "kinto_elasticsearch: reserved fields of indexed records"},
            )
        self._template_ready = True

    def _template_name(self) -> str:
        return f"{self.prefix}-kinto-records"

    def _ensure_template(self) -> None:
        if not self._template_ready:
            self.initialize_schema()

    def heartbeat(self) -> bool:
        try:
            health = self._reader().cluster.health()
        except Exception:
            logger.warning("Elasticsearch heartbeat failed", exc_info=True)
            return False
        return health.get("status") in ("green", "yellow")

    def flush(self) -> None:
        self._delete_names([index_name(self.prefix, key) for key in self.list_indexes()])
        try:
            with _translated("delete the index template"):
                self._writer().indices.delete_index_template(name=self._template_name())
        except SearchError as error:
            if "not_found" not in error.message and "missing" not in error.message:
                raise
        self._template_ready = False

    # --- indexes ---

    def create_index(
        self, collection_id: str, bucket_id: str | None = None, schema: Mapping[str, Any] | None = None
    ) -> None:
        self._ensure_template()
        key = index_key(collection_id, bucket_id)
        name = index_name(self.prefix, key)
        mapping = _schema_mapping(schema)
        body = {
            **mapping,
            "_meta": {"kinto_key": list(key)},
            "properties": {**BASE_PROPERTIES, **mapping.get("properties", {})},
        }
        try:
            with _translated("create an index"):
                self._writer().indices.create(index=name, mappings=body)
        except SearchError as error:
            if "resource_already_exists_exception" not in error.message:
                raise
            if mapping:
                self.update_mapping(collection_id, bucket_id, schema or {})

    def update_mapping(self, collection_id: str, bucket_id: str | None, schema: Mapping[str, Any]) -> None:
        name = self.name(collection_id, bucket_id)
        mapping = _schema_mapping(schema)
        if not self.index_exists(collection_id, bucket_id):
            self.create_index(collection_id, bucket_id, schema)
            return
        with _translated("update a mapping"):
            self._writer().indices.put_mapping(index=name, **mapping)

    def delete_index(self, collection_id: str | None, bucket_id: str | None = None) -> None:
        if collection_id is not None:
            self._delete_names([self.name(collection_id, bucket_id)])
            return
        keys = [key for key in self.list_indexes() if len(key) == 2 and key[0] == bucket_id]
        self._delete_names([index_name(self.prefix, key) for key in keys])

    def _delete_names(self, names: list[str]) -> None:
        # Explicit names: Elasticsearch 8 refuses wildcard deletions (action.destructive_requires_name).
        for start in range(0, len(names), _DELETE_CHUNK):
            chunk = names[start : start + _DELETE_CHUNK]
            with _translated("delete indexes"):
                self._writer().indices.delete(index=",".join(chunk), ignore_unavailable=True)

    def index_exists(self, collection_id: str, bucket_id: str | None = None) -> bool:
        with _translated("check an index"):
            return bool(self._reader().indices.exists(index=self.name(collection_id, bucket_id)))

    def list_indexes(self) -> list[IndexKey]:
        with _translated("list indexes"):
            mappings = self._reader().indices.get_mapping(
                index=f"{self.prefix}-*", allow_no_indices=True, ignore_unavailable=True
            )
        keys = []
        for name, description in dict(mappings).items():
            meta = (description.get("mappings") or {}).get("_meta") or {}
            stored = meta.get("kinto_key")
            key = tuple(stored) if isinstance(stored, list) else parse_index_name(self.prefix, name)
            if key is not None and index_name(self.prefix, key) == name:
                keys.append(key)
        return sorted(keys)

    # --- documents ---

    def bulk(self, operations: Sequence[BulkOperation], refresh: bool | None = None) -> BulkResult:
        result = BulkResult()
        if not operations:
            return result
        try:
            self._ensure_template()
        except (IndexerUnavailable, SearchError):
            self.stats.add(failures=len(operations))
            raise
        refresh = self.refresh_enabled if refresh is None else refresh
        for start in range(0, len(operations), _BULK_CHUNK):
            self._bulk_chunk(operations[start : start + _BULK_CHUNK], refresh, result)
        return result

    def _bulk_chunk(self, operations: Sequence[BulkOperation], refresh: bool, result: BulkResult) -> None:
        actions: list[Mapping[str, Any]] = []
        for operation in operations:
            target = {"_index": index_name(self.prefix, operation.key), "_id": operation.record_id}
            actions.append({operation.action: target})
            if operation.action == "index":
                actions.append(operation.document or {})
        try:
            with _translated("index records"):
                response = self._writer().bulk(operations=actions, refresh=refresh)
        except (IndexerUnavailable, SearchError):
            self.stats.add(failures=len(operations))
            raise
        indexed = deleted = failed = 0
        for operation, item in zip(operations, response.get("items", [])):
            outcome = item.get(operation.action, {})
            status = int(outcome.get("status", 500))
            if status < 300 or (operation.action == "delete" and status == 404):
                result.succeeded += 1
                indexed += operation.action == "index"
                deleted += operation.action == "delete"
                continue
            failed += 1
            error = outcome.get("error") or {}
            reason = (
                f"{error.get('type', status)}: {error.get('reason', '')}" if isinstance(error, Mapping) else str(error)
            )
            result.failures.append((operation.record_id, reason))
        self.stats.add(indexed=indexed, deleted=deleted, failures=failed)

    def refresh(self, collection_id: str, bucket_id: str | None = None) -> None:
        with _translated("refresh an index"):
            self._writer().indices.refresh(index=self.name(collection_id, bucket_id), ignore_unavailable=True)

    # --- search ---

    def search(
        self,
        collection_id: str,
        query: Mapping[str, Any] | None,
        bucket_id: str | None = None,
        *,
        filters: Iterable[Mapping[str, Any]] = (),
    ) -> dict[str, Any]:
        filters = list(filters)
        body = with_filters(validate_search_body(query, self.limits), filters)
        if filters and not self.index_wide_scores:
            # Term statistics are the whole index's: scores of a partial reader would reflect records it
            # may not read (how many hold a word). Constant scores tell nothing.
            body["query"] = {"constant_score": {"filter": body["query"]}}
        name = self.name(collection_id, bucket_id)
        try:
            with _translated("search"):
                response = self._reader().search(index=name, body=body, ignore_unavailable=True, allow_no_indices=True)
        except SearchError as error:
            logger.warning("Elasticsearch refused a search of %s: %s", name, error.message)
            raise SearchError(
                _SEARCH_REFUSED, [{"location": "body", "name": None, "description": _SEARCH_REFUSED}]
            ) from None
        return _clean_response(dict(response))


def _clean_response(response: Mapping[str, Any]) -> dict[str, Any]:
    hits = response.get("hits") or {}
    cleaned_hits = []
    for hit in hits.get("hits", []):
        cleaned: dict[str, Any] = {"_id": hit.get("_id"), "_score": hit.get("_score")}
        if "_source" in hit:
            cleaned["_source"] = {k: v for k, v in hit["_source"].items() if k != RESERVED_FIELD}
        for extra in ("sort", "highlight"):
            if extra in hit:
                cleaned[extra] = hit[extra]
        if "highlight" in cleaned:
            cleaned["highlight"] = {k: v for k, v in cleaned["highlight"].items() if not k.startswith(RESERVED_FIELD)}
        cleaned_hits.append(cleaned)
    result: dict[str, Any] = {
        "hits": {"total": hits.get("total"), "max_score": hits.get("max_score"), "hits": cleaned_hits}
    }
    if "aggregations" in response:
        result["aggregations"] = response["aggregations"]
    return result


def build_client(settings: Mapping[str, Any]) -> elasticsearch.Elasticsearch:
    """An Elasticsearch client configured from the plugin's settings."""
    options: dict[str, Any] = {
        "request_timeout": settings["kinto_elasticsearch.request_timeout_seconds"],
        "max_retries": settings["kinto_elasticsearch.max_retries"],
        "retry_on_timeout": False,
        "verify_certs": settings["kinto_elasticsearch.verify_certs"],
    }
    if settings.get("kinto_elasticsearch.api_key"):
        options["api_key"] = settings["kinto_elasticsearch.api_key"]
    if settings.get("kinto_elasticsearch.ca_certs"):
        options["ca_certs"] = settings["kinto_elasticsearch.ca_certs"]
    if not settings["kinto_elasticsearch.compatibility_headers"]:
        options["transport_class"] = PlainJsonTransport
    return elasticsearch.Elasticsearch(list(settings["kinto_elasticsearch.hosts"]), **options)


def load_from_config(config: Any) -> ElasticsearchIndexer:
    """Build the indexer from the ``kinto_elasticsearch.*`` settings (see ``kinto_elasticsearch.settings``)."""
    import kinto.core

    from kinto_elasticsearch.settings import DEFAULT_SETTINGS

    kinto.core.load_default_settings(config, DEFAULT_SETTINGS)
    settings = config.get_settings()
    return ElasticsearchIndexer(
        build_client(settings),
        prefix=settings["kinto_elasticsearch.index_prefix"],
        limits=search_limits(settings),
        refresh=settings["kinto_elasticsearch.refresh_enabled"],
        indexing_timeout=settings["kinto_elasticsearch.indexing_timeout_seconds"],
        search_timeout=settings["kinto_elasticsearch.request_timeout_seconds"],
        index_wide_scores=settings["kinto_elasticsearch.index_wide_scores"],
    )
