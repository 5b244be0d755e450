"""The indexer contract: what ``kinto.indexing_backend`` modules provide.

An indexer keeps one *index* per collection of records. A collection is named
by ``collection_id`` and, for the Kinto server's records, ``bucket_id``; a
kinto.core application's resource is a collection of its own (``bucket_id``
``None``, ``collection_id`` the resource name). Documents are records as
stored, plus the reserved top-level field ``__kinto__`` holding what the
search needs to filter by permission (see :mod:`kinto_elasticsearch.permissions`).

A backend module exposes ``load_from_config(config) -> IndexerBase``; the
setting ``kinto.indexing_backend`` names it (``kinto_elasticsearch.elasticsearch``
by default, ``kinto_elasticsearch.embedded`` needs no server).

Errors: a request the backend refuses (bad query, unknown field type...)
raises :class:`SearchError` (answered 400); a backend that cannot be reached
or fails raises :class:`IndexerUnavailable` (answered 503 with Retry-After).
"""

from __future__ import annotations

import abc
import dataclasses
import hashlib
import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

__all__ = [
    "BASE_PROPERTIES",
    "RESERVED_FIELD",
    "BulkOperation",
    "BulkResult",
    "IndexKey",
    "IndexerBase",
    "IndexerUnavailable",
    "IndexingStats",
    "SearchError",
    "index_key",
    "index_name",
    "parse_index_name",
]

#: The top-level document field holding the indexer's own metadata (never returned, never queried by clients).
RESERVED_FIELD = "__kinto__"

#: Fields mapped in every index: the reserved metadata, ``id`` and ``last_modified``
#: (a collection's ``index:schema`` may map ``id`` and ``last_modified`` otherwise).
BASE_PROPERTIES: dict[str, Any] = {
    "id": {"type": "keyword"},
    "last_modified": {"type": "long"},
    RESERVED_FIELD: {
        "type": "object",
        "dynamic": False,
        "properties": {"principals": {"type": "keyword"}, "parent_id": {"type": "keyword"}},
    },
}

#: A collection's identity: ``(bucket_id, collection_id)`` on the Kinto server, ``(resource_name,)`` otherwise.
IndexKey = tuple[str, ...]


def index_key(collection_id: str, bucket_id: str | None = None) -> IndexKey:
    """The key of a collection: ``(bucket_id, collection_id)``, or ``(collection_id,)`` without bucket."""
    return (collection_id,) if bucket_id is None else (bucket_id, collection_id)


_KEPT = re.compile(r"[a-z0-9_]")
_ESCAPE = re.compile(r"\+([0-9a-f]{2})")
_MAX_INDEX_NAME_BYTES = 255


def _encode_segment(segment: str) -> str:
    return "".join(
        char if _KEPT.fullmatch(char) else "".join(f"+{byte:02x}" for byte in char.encode("utf-8")) for char in segment
    )


def _decode_segment(encoded: str) -> str:
    raw = bytearray()
    position = 0
    while position < len(encoded):
        match = _ESCAPE.match(encoded, position)
        if match:
            raw.append(int(match.group(1), 16))
            position = match.end()
        else:
            raw.extend(encoded[position].encode("utf-8"))
            position += 1
    return raw.decode("utf-8")


def index_name(prefix: str, key: IndexKey) -> str:
    """The Elasticsearch index name of a collection: ``<prefix>-<segment>[-<segment>]``.

    Index names must be lowercase and a few characters are forbidden, while
    Kinto ids are case-sensitive: every character but ``a-z``, ``0-9`` and
    ``_`` is written ``+XX`` per UTF-8 byte (``Bucket-1`` -> ``+42ucket+2d1``),
    so distinct collections always get distinct names and ``-`` only
    separates segments. Names longer than Elasticsearch allows end with a hash
    instead (:func:`parse_index_name` cannot read those back).
    """
    name = "-".join([prefix, *(_encode_segment(segment) for segment in key)])
    if len(name.encode("utf-8")) <= _MAX_INDEX_NAME_BYTES:
        return name
    digest = hashlib.sha256("\x00".join(key).encode("utf-8")).hexdigest()
    return f"{prefix}-~{digest}"


def parse_index_name(prefix: str, name: str) -> IndexKey | None:
    """The key :func:`index_name` encoded in ``name``, or ``None`` for a name it did not make."""
    if not name.startswith(prefix + "-"):
        return None
    segments = name[len(prefix) + 1 :].split("-")
    if not 1 <= len(segments) <= 2 or any(not segment or segment.startswith("~") for segment in segments):
        return None
    try:
        return tuple(_decode_segment(segment) for segment in segments)
    except UnicodeDecodeError:
        return None


class SearchError(Exception):
    """The backend refused a request for a reason the client can fix (answered 400)."""

    def __init__(self, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class IndexerUnavailable(Exception):
    """The backend cannot be reached or failed (answered 503 with Retry-After)."""


@dataclasses.dataclass(frozen=True)
class BulkOperation:
    """Index (insert or replace) or delete one document of one collection.

    ``document`` is the record with its ``__kinto__`` metadata (``None`` for deletions).
    """

    key: IndexKey
    action: Literal["index", "delete"]
    record_id: str
    document: Mapping[str, Any] | None = None


@dataclasses.dataclass
class BulkResult:
    """What a bulk call did: how many operations succeeded, and why the others failed."""

    succeeded: int = 0
    failures: list[tuple[str, str]] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class IndexingStats:
    """Counters of one indexer instance (one process); read them for monitoring.

    ``failures`` counts operations (or whole calls) that did not reach the index:
    after one, run ``kinto reindex`` for the collection concerned.
    """

    indexed: int = 0
    deleted: int = 0
    failures: int = 0
    _lock: threading.Lock = dataclasses.field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, *, indexed: int = 0, deleted: int = 0, failures: int = 0) -> None:
        with self._lock:
            self.indexed += indexed
            self.deleted += deleted
            self.failures += failures

    def as_dict(self) -> dict[str, int]:
        return {"indexed": self.indexed, "deleted": self.deleted, "failures": self.failures}


class IndexerBase(abc.ABC):
    """Abstract base class of indexers.

    Every method may raise :class:`IndexerUnavailable`; ``search`` may raise
    :class:`SearchError`. Collections are named ``(collection_id, bucket_id=None)``
    as in Kinto's former plugin, so ``indexer.search("articles", body)`` works
    for a kinto.core application.
    """

    def __init__(self) -> None:
        self.stats = IndexingStats()

    # --- lifecycle -------------------------------------------------------------------------------

    def initialize_schema(self, dry_run: bool = False) -> None:
        """Create what the backend needs before the first index (templates, tables). Idempotent.

        Run by ``kinto migrate``; with ``dry_run`` nothing changes.
        """

    @abc.abstractmethod
    def heartbeat(self) -> bool:
        """True when the backend answers within its timeout; never raises."""

    @abc.abstractmethod
    def flush(self) -> None:
        """Delete every index this indexer manages (those under its prefix), and nothing else."""

    # --- indexes ---------------------------------------------------------------------------------

    @abc.abstractmethod
    def create_index(
        self, collection_id: str, bucket_id: str | None = None, schema: Mapping[str, Any] | None = None
    ) -> None:
        """Create the collection's index with the mapping ``schema`` (the collection's ``index:schema``,
        an Elasticsearch mapping such as ``{"properties": {...}}``).

        An existing index is kept as it is (its mapping updated with ``schema``
        when given). An invalid schema raises :class:`SearchError`.
        """

    @abc.abstractmethod
    def update_mapping(self, collection_id: str, bucket_id: str | None, schema: Mapping[str, Any]) -> None:
        """Add the fields of ``schema`` to the index's mapping (creating the index if missing).

        A change the backend cannot apply in place (a field changing type)
        raises :class:`SearchError`: reindex the collection to apply it.
        """

    @abc.abstractmethod
    def delete_index(self, collection_id: str | None, bucket_id: str | None = None) -> None:
        """Delete the collection's index; with ``collection_id`` ``None``, every index of ``bucket_id``.

        Missing indexes are not an error.
        """

    @abc.abstractmethod
    def index_exists(self, collection_id: str, bucket_id: str | None = None) -> bool:
        """Whether the collection's index exists."""

    @abc.abstractmethod
    def list_indexes(self) -> list[IndexKey]:
        """The keys of every index this indexer manages."""

    # --- documents ---------------------------------------------------------------------------------

    @abc.abstractmethod
    def bulk(self, operations: Sequence[BulkOperation], refresh: bool | None = None) -> BulkResult:
        """Apply the operations, in order, in as few calls as the backend allows.

        Indexes missing are created with a default mapping. Deleting a missing
        document succeeds. ``refresh`` (default: the backend's setting) makes
        the changes visible to searches before returning. Per-operation
        failures are reported in the result (and counted in ``stats``), not
        raised; a backend that cannot be reached raises :class:`IndexerUnavailable`.
        """

    def index_record(
        self,
        collection_id: str,
        record: Mapping[str, Any],
        bucket_id: str | None = None,
        id_field: str = "id",
        metadata: Mapping[str, Any] | None = None,
    ) -> BulkResult:
        """Index one record (``metadata`` becomes its ``__kinto__`` field; none means nobody may read it
        through a permission-filtered search)."""
        document = {**record, RESERVED_FIELD: dict(metadata or {})}
        key = index_key(collection_id, bucket_id)
        return self.bulk([BulkOperation(key, "index", str(record[id_field]), document)])

    def unindex_record(
        self, collection_id: str, record: Mapping[str, Any] | str, bucket_id: str | None = None, id_field: str = "id"
    ) -> BulkResult:
        """Remove one record (given as the record or its id) from the collection's index."""
        record_id = record if isinstance(record, str) else str(record[id_field])
        return self.bulk([BulkOperation(index_key(collection_id, bucket_id), "delete", record_id)])

    @abc.abstractmethod
    def refresh(self, collection_id: str, bucket_id: str | None = None) -> None:
        """Make every change made so far visible to searches of the collection."""

    # --- search ----------------------------------------------------------------------------------

    @abc.abstractmethod
    def search(
        self,
        collection_id: str,
        query: Mapping[str, Any] | None,
        bucket_id: str | None = None,
        *,
        filters: Iterable[Mapping[str, Any]] = (),
    ) -> dict[str, Any]:
        """Run a search request body (Elasticsearch's query DSL) on the collection's index.

        The body is first checked by :func:`kinto_elasticsearch.dsl.validate_search_body`
        (no scripts, no other index, sizes capped, reserved fields untouchable):
        a refused body raises :class:`SearchError`. ``filters`` are trusted
        query clauses every hit must match whatever the body says (the
        permission filter). A collection without index gives no hits.

        Returns ``{"hits": {"total": {"value", "relation"}, "max_score",
        "hits": [{"_id", "_score", "_source"[, "sort"][, "highlight"]}]}}``
        (plus ``"aggregations"`` when asked and supported), ``_source``
        never holding the ``__kinto__`` field.
        """
