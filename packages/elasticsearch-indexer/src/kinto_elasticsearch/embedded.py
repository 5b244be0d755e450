"""An indexer with no server: documents in memory, optionally persisted in a SQLite file.

Select it with ``kinto.indexing_backend = kinto_elasticsearch.embedded``. With
``kinto_elasticsearch.embedded_url = sqlite:///path/search.sqlite`` the index
survives restarts and is shared by the processes of one machine (each process
reloads an index when another one changed it); without it, the index lives
in the process and is empty at start-up (``kinto reindex`` fills it).

Searches scan the collection's documents, evaluating the query DSL subset of
:mod:`kinto_elasticsearch.evaluation` over the documents the caller may read
(scores too are computed from those only): fine for development and for single-node
collections of some tens of thousands of records, not a replacement for
Elasticsearch at scale. Aggregations and highlighting are not supported.
Changes are visible to searches immediately.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from kinto_elasticsearch import evaluation
from kinto_elasticsearch.dsl import BODY_KEYS, SearchLimits, validate_search_body
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
)
from kinto_elasticsearch.settings import search_limits

__all__ = ["EmbeddedIndexer", "load_from_config"]

#: Top-level keys of a search body this backend runs.
SUPPORTED_BODY_KEYS = BODY_KEYS - {"aggs", "aggregations", "highlight"}

#: Field types accepted in mappings (``index:schema``); unknown ones are refused as Elasticsearch does.
FIELD_TYPES = frozenset(
    {
        "text",
        "match_only_text",
        "keyword",
        "constant_keyword",
        "wildcard",
        "long",
        "integer",
        "short",
        "byte",
        "double",
        "float",
        "half_float",
        "scaled_float",
        "unsigned_long",
        "boolean",
        "date",
        "date_nanos",
        "object",
        "nested",
        "flattened",
        "ip",
        "binary",
        "geo_point",
    }
)

_SCHEMA = (
    (
        "CREATE TABLE IF NOT EXISTS kinto_search_indexes ("
        " key TEXT PRIMARY KEY, properties TEXT NOT NULL, version INTEGER NOT NULL)"
    ),
    (
        "CREATE TABLE IF NOT EXISTS kinto_search_documents ("
        " key TEXT NOT NULL, id TEXT NOT NULL, sequence INTEGER NOT NULL, source TEXT NOT NULL,"
        " PRIMARY KEY (key, id))"
    ),
)


class _Index:
    def __init__(self, key: IndexKey, properties: dict[str, Any], version: int = 0) -> None:
        self.key = key
        self.properties = properties
        self.documents: dict[str, evaluation.Document] = {}
        self.sequence = 0
        self.version = version

    def put(self, document_id: str, source: Mapping[str, Any], sequence: int | None = None) -> None:
        if sequence is None:
            self.sequence += 1
            sequence = self.sequence
        self.sequence = max(self.sequence, sequence)
        self.documents[document_id] = evaluation.Document(document_id, source, sequence)


def merge_properties(current: Mapping[str, Any], update: Mapping[str, Any], path: str = "") -> dict[str, Any]:
    """Merge mapping properties as Elasticsearch does: new fields are added, a type never changes."""
    merged = dict(current)
    for name, spec in update.items():
        where = f"{path}.{name}" if path else name
        if not isinstance(spec, Mapping):
            raise SearchError(f"invalid mapping for field {where!r}: expected an object")
        kind = spec.get("type", "object")
        if kind not in FIELD_TYPES:
            raise SearchError(f"no handler for type [{kind}] declared on field [{where}]")
        existing = merged.get(name)
        if existing is None:
            merged[name] = json.loads(json.dumps(spec))
            continue
        if existing.get("type", "object") != kind:
            raise SearchError(
                f"mapper [{where}] cannot be changed from type [{existing.get('type', 'object')}] to [{kind}]"
            )
        combined = {**existing, **{k: v for k, v in spec.items() if k != "properties"}}
        if "properties" in spec:
            combined["properties"] = merge_properties(existing.get("properties", {}), spec["properties"], where)
        merged[name] = combined
    return merged


def schema_properties(schema: Mapping[str, Any] | None) -> dict[str, Any]:
    """The ``properties`` of an ``index:schema`` (a mapping), checked."""
    if not schema:
        return {}
    if not isinstance(schema, Mapping):
        raise SearchError("the index schema must be an object")
    properties = schema.get("properties", {})
    if not isinstance(properties, Mapping):
        raise SearchError("the index schema's properties must be an object")
    return merge_properties({}, {name: spec for name, spec in properties.items() if name != RESERVED_FIELD})


class EmbeddedIndexer(IndexerBase):
    """The embedded indexer; ``path`` is a SQLite file (``None``: memory only)."""

    def __init__(self, limits: SearchLimits | None = None, path: str | None = None) -> None:
        super().__init__()
        self.limits = limits or SearchLimits()
        self.path = path
        self._indexes: dict[IndexKey, _Index] = {}
        self._lock = threading.RLock()
        self._db: sqlite3.Connection | None = None
        if path:
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=10)
            self._db.execute("PRAGMA journal_mode=WAL")
            self.initialize_schema()

    # --- persistence ---

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection | None]:
        with self._lock:
            if self._db is None:
                yield None
                return
            try:
                self._db.execute("BEGIN IMMEDIATE")
                yield self._db
                self._db.execute("COMMIT")
            except sqlite3.Error as error:
                with contextlib.suppress(sqlite3.Error):
                    self._db.execute("ROLLBACK")
                raise IndexerUnavailable(f"embedded index: {error}") from error
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    self._db.execute("ROLLBACK")
                raise

    def _sync(self, key: IndexKey) -> _Index | None:
        """The index as stored now (reloaded when another process changed it)."""
        if self._db is None:
            return self._indexes.get(key)
        try:
            row = self._db.execute(
                "SELECT properties, version FROM kinto_search_indexes WHERE key = ?", (_db_key(key),)
            ).fetchone()
            if row is None:
                self._indexes.pop(key, None)
                return None
            cached = self._indexes.get(key)
            if cached is not None and cached.version == row[1]:
                return cached
            index = _Index(key, json.loads(row[0]), row[1])
            for document_id, sequence, source in self._db.execute(
                "SELECT id, sequence, source FROM kinto_search_documents WHERE key = ? ORDER BY sequence",
                (_db_key(key),),
            ):
                index.put(document_id, json.loads(source), sequence)
        except sqlite3.Error as error:
            raise IndexerUnavailable(f"embedded index: {error}") from error
        self._indexes[key] = index
        return index

    def _save_index(self, db: sqlite3.Connection | None, index: _Index) -> None:
        index.version += 1
        if db is None:
            return
        db.execute(
            "INSERT INTO kinto_search_indexes (key, properties, version) VALUES (?, ?, ?)"
            " ON CONFLICT (key) DO UPDATE SET properties = excluded.properties, version = excluded.version",
            (_db_key(index.key), json.dumps(index.properties), index.version),
        )

    # --- lifecycle ---

    def initialize_schema(self, dry_run: bool = False) -> None:
        if self._db is None or dry_run:
            return
        with self._lock:
            for statement in _SCHEMA:
                self._db.execute(statement)

    def heartbeat(self) -> bool:
        if self._db is None:
            return True
        try:
            with self._lock:
                self._db.execute("SELECT 1").fetchone()
            return True
        except sqlite3.Error:
            return False

    def flush(self) -> None:
        with self._write() as db:
            self._indexes.clear()
            if db is not None:
                db.execute("DELETE FROM kinto_search_documents")
                db.execute("DELETE FROM kinto_search_indexes")

    # --- indexes ---

    def _ensure(self, db: sqlite3.Connection | None, key: IndexKey) -> _Index:
        index = self._sync(key)
        if index is None:
            index = self._indexes[key] = _Index(key, {})
            self._save_index(db, index)
        return index

    def create_index(
        self, collection_id: str, bucket_id: str | None = None, schema: Mapping[str, Any] | None = None
    ) -> None:
        properties = schema_properties(schema)
        with self._write() as db:
            index = self._ensure(db, index_key(collection_id, bucket_id))
            if properties:
                index.properties = merge_properties(index.properties, properties)
                self._save_index(db, index)

    def update_mapping(self, collection_id: str, bucket_id: str | None, schema: Mapping[str, Any]) -> None:
        self.create_index(collection_id, bucket_id, schema)

    def delete_index(self, collection_id: str | None, bucket_id: str | None = None) -> None:
        with self._write() as db:
            keys = [key for key in self._all_keys() if _belongs(key, collection_id, bucket_id)]
            for key in keys:
                self._indexes.pop(key, None)
                if db is not None:
                    db.execute("DELETE FROM kinto_search_documents WHERE key = ?", (_db_key(key),))
                    db.execute("DELETE FROM kinto_search_indexes WHERE key = ?", (_db_key(key),))

    def _all_keys(self) -> list[IndexKey]:
        if self._db is None:
            return list(self._indexes)
        rows = self._db.execute("SELECT key FROM kinto_search_indexes").fetchall()
        return [tuple(json.loads(row[0])) for row in rows]

    def index_exists(self, collection_id: str, bucket_id: str | None = None) -> bool:
        with self._lock:
            return self._sync(index_key(collection_id, bucket_id)) is not None

    def list_indexes(self) -> list[IndexKey]:
        with self._lock:
            return sorted(self._all_keys())

    # --- documents ---

    def bulk(self, operations: Sequence[BulkOperation], refresh: bool | None = None) -> BulkResult:
        result = BulkResult()
        indexed = deleted = 0
        with self._write() as db:
            touched: dict[IndexKey, _Index] = {}
            for operation in operations:
                if operation.action == "delete":
                    # As Elasticsearch does, deleting never creates an index.
                    index = touched.get(operation.key) or self._sync(operation.key)
                    if index is not None:
                        touched[operation.key] = index
                        index.documents.pop(operation.record_id, None)
                    if db is not None:
                        db.execute(
                            "DELETE FROM kinto_search_documents WHERE key = ? AND id = ?",
                            (_db_key(operation.key), operation.record_id),
                        )
                    deleted += 1
                else:
                    index = touched.get(operation.key) or self._ensure(db, operation.key)
                    touched[operation.key] = index
                    source = json.loads(json.dumps(operation.document or {}))
                    index.put(operation.record_id, source)
                    if db is not None:
                        db.execute(
                            "INSERT OR REPLACE INTO kinto_search_documents (key, id, sequence, source)"
                            " VALUES (?, ?, ?, ?)",
                            (_db_key(operation.key), operation.record_id, index.sequence, json.dumps(source)),
                        )
                    indexed += 1
                result.succeeded += 1
            for index in touched.values():
                self._save_index(db, index)
        self.stats.add(indexed=indexed, deleted=deleted)
        return result

    def refresh(self, collection_id: str, bucket_id: str | None = None) -> None:
        """Changes are visible at once: nothing to do."""

    # --- search ---

    def search(
        self,
        collection_id: str,
        query: Mapping[str, Any] | None,
        bucket_id: str | None = None,
        *,
        filters: Iterable[Mapping[str, Any]] = (),
    ) -> dict[str, Any]:
        body = validate_search_body(query, self.limits, allowed_keys=SUPPORTED_BODY_KEYS)
        with self._lock:
            index = self._sync(index_key(collection_id, bucket_id))
            documents = list(index.documents.values()) if index is not None else []
            properties = {**BASE_PROPERTIES, **(index.properties if index is not None else {})}
        try:
            return _run_search(body, documents, properties, list(filters))
        except SearchError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise SearchError(f"invalid search body: {error!r}") from None


def _readable(
    documents: list[evaluation.Document], properties: dict[str, Any], filters: list[Mapping[str, Any]]
) -> list[evaluation.Document]:
    if not filters:
        return documents
    gate = evaluation.Evaluator(documents, properties)
    return [document for document in documents if all(gate.matches(clause, document) for clause in filters)]


def _run_search(
    body: dict[str, Any],
    documents: list[evaluation.Document],
    properties: dict[str, Any],
    filters: list[Mapping[str, Any]],
) -> dict[str, Any]:
    # Scores are computed over the records the caller may read only (document frequencies, average
    # lengths): nothing the caller may not read shows through a score.
    readable = _readable(documents, properties, filters)
    evaluator = evaluation.Evaluator(readable, properties)
    query = body.get("query") or {"match_all": {}}
    post_filter = body.get("post_filter")
    min_score = body.get("min_score")
    hits: list[tuple[evaluation.Document, float]] = []
    for document in readable:
        score = evaluator.score(query, document)
        if score is None or (post_filter is not None and not evaluator.matches(post_filter, document)):
            continue
        if min_score is not None and score < float(min_score):
            continue
        hits.append((document, score))
    specs = evaluation.sort_specs(body["sort"]) if "sort" in body else None
    rows: list[tuple[evaluation.Document, float, list[Any] | None]]
    if specs:
        rows = [(doc, score, evaluation.sort_values(evaluator, specs, doc, score)) for doc, score in hits]
        key = evaluation.sort_key(specs)
        rows.sort(key=lambda row: key(row[2]))
        after = body.get("search_after")
        if after is not None:
            rows = [row for row in rows if evaluation.compare_sort_values(specs, row[2] or [], after) > 0]
    else:
        rows = [(doc, score, None) for doc, score in sorted(hits, key=lambda hit: (-hit[1], hit[0].sequence))]
    scored = specs is None or any(field == "_score" for field, _, _ in specs)
    page = rows[body["from"] : body["from"] + body["size"]]
    return {
        "hits": {
            "total": _total(len(rows), body.get("track_total_hits", 10000)),
            "max_score": (max((score for _, score, _ in rows), default=None)) if scored else None,
            "hits": [
                _hit(document, score if scored else None, values, body.get("_source", True))
                for document, score, values in page
            ],
        }
    }


def _total(count: int, track: Any) -> dict[str, Any]:
    if track is True or track is None:
        return {"value": count, "relation": "eq"}
    limit = 0 if track is False else int(track)
    if count > limit:
        return {"value": limit, "relation": "gte"}
    return {"value": count, "relation": "eq"}


def _hit(
    document: evaluation.Document, score: float | None, values: list[Any] | None, source_spec: Any
) -> dict[str, Any]:
    hit: dict[str, Any] = {"_id": document.id, "_score": score}
    source = evaluation.filter_source(document.source, source_spec)
    if source is not None:
        hit["_source"] = source
    if values is not None:
        hit["sort"] = values
    return hit


def _db_key(key: IndexKey) -> str:
    return json.dumps(list(key))


def _belongs(key: IndexKey, collection_id: str | None, bucket_id: str | None) -> bool:
    if collection_id is None:
        return len(key) == 2 and key[0] == bucket_id
    return key == index_key(collection_id, bucket_id)


def load_from_config(config: Any) -> EmbeddedIndexer:
    """Build the embedded indexer from ``kinto_elasticsearch.embedded_url`` (empty: memory only)."""
    import kinto.core

    from kinto_elasticsearch.settings import DEFAULT_SETTINGS

    kinto.core.load_default_settings(config, DEFAULT_SETTINGS)
    settings = config.get_settings()
    url = settings["kinto_elasticsearch.embedded_url"]
    path = None
    if url:
        if not url.startswith("sqlite:///"):
            from pyramid.exceptions import ConfigurationError

            raise ConfigurationError(
                f"Setting 'kinto_elasticsearch.embedded_url = {url}': expected sqlite:///path/to/file.sqlite"
            )
        path = url[len("sqlite:///") :]
    return EmbeddedIndexer(search_limits(settings), path)
