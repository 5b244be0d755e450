"""The search endpoints.

* ``POST /search/{collection_id}/`` (the seed's service, named ``search``): a
  kinto.core resource, by name or plural path (``/search/articles/``), searched
  with a query DSL body.
* ``GET|POST /buckets/{bucket_id}/collections/{collection_id}/search`` on the
  Kinto server: ``?q=`` (query string syntax, with ``size``, ``from`` and
  ``sort``) or a DSL body.

Both answer Elasticsearch's hits (``{"hits": {"total", "max_score", "hits":
[{"_id", "_score", "_source"}]}}``) holding only what the caller may read
(:mod:`kinto_elasticsearch.permissions`). A refused body answers 400 in Kinto's
error format; an unreachable indexer 503 with ``Retry-After`` (what failed is
logged, not told). Callers get the status and errno the list of records
(``GET .../records``) would give them: 401/403 first when they may read
nothing there, then 404 for a missing collection, so that a search tells
nothing more about what exists.
"""

from __future__ import annotations

import logging
from typing import Any

from kinto.core import Service
from kinto.core.errors import ERRORS, http_error, invalid, request_GET
from kinto.core.storage import ObjectNotFoundError
from pyramid import httpexceptions

from kinto_elasticsearch.dsl import parse_uri_search
from kinto_elasticsearch.indexer import IndexerBase, IndexerUnavailable, SearchError
from kinto_elasticsearch.permissions import PrincipalHasher, read_filters
from kinto_elasticsearch.resources import IndexedResource, bucket_uri, collection_of, collection_uri, server_records

__all__ = ["collection_search_service", "get_search", "run_search", "search", "search_collection"]

SERVER_SEARCH_PATH = "/buckets/{bucket_id}/collections/{collection_id}/search"

search = Service(name="search", path="/search/{collection_id}/", description="Search")

logger = logging.getLogger(__name__)


def _indexer(request: Any) -> IndexerBase:
    return request.registry.indexer


def _body(request: Any) -> Any:
    if request.body:
        return request.json_body
    try:
        return parse_uri_search(request_GET(request))
    except SearchError as error:
        raise _bad_request(error) from None


def _bad_request(error: SearchError) -> Exception:
    return invalid(error.message, details=error.details)


def run_search(
    request: Any, resource: IndexedResource, collection_id: str, bucket_id: str | None, body: Any
) -> dict[str, Any]:
    """Search one collection for the caller: permission filter added, errors answered in Kinto's format."""
    return _search(request, collection_id, bucket_id, body, _filters(request, resource))


def _filters(request: Any, resource: IndexedResource) -> list[dict[str, Any]]:
    return read_filters(request, resource, PrincipalHasher.from_settings(request.registry.settings))


def _search(
    request: Any, collection_id: str, bucket_id: str | None, body: Any, filters: list[dict[str, Any]]
) -> dict[str, Any]:
    try:
        return _indexer(request).search(collection_id, body, bucket_id, filters=filters)
    except SearchError as error:
        raise _bad_request(error) from None
    except IndexerUnavailable as error:
        logger.error("Search of %s unavailable: %s", _where(request.registry, collection_id, bucket_id), error)
        raise http_error(
            httpexceptions.HTTPServiceUnavailable(), errno=ERRORS.BACKEND, message="Search is unavailable"
        ) from None


def _where(registry: Any, collection_id: str, bucket_id: str | None) -> str:
    return collection_uri(registry, bucket_id, collection_id) if bucket_id is not None else collection_id


def _not_found(what: str, object_id: str) -> Exception:
    return http_error(
        httpexceptions.HTTPNotFound(),
        errno=ERRORS.MISSING_RESOURCE,
        message=f"{what.capitalize()} not found",
        details={"id": object_id, "resource_name": what},
    )


@search.post()
def get_search(request: Any) -> dict[str, Any]:
    collection_id = request.matchdict["collection_id"]
    resource = collection_of(request.registry, collection_id)
    if resource is None:
        raise _not_found("collection", collection_id)
    return run_search(request, resource, resource.name, None, _body(request))


def collection_search_service() -> Service:
    """The server's collection search (added by ``includeme`` only to applications serving Kinto's records)."""
    service = Service(
        name="collection-search", path=SERVER_SEARCH_PATH, description="Search the records of a collection"
    )
    service.add_view("GET", search_collection)
    service.add_view("POST", search_collection)
    return service


def search_collection(request: Any) -> dict[str, Any]:
    records = server_records(request.registry)
    bucket_id, collection_id = request.matchdict["bucket_id"], request.matchdict["collection_id"]
    if records is None:
        raise _not_found("collection", collection_id)
    # As the list of records: permission first (401/403 to whoever may read nothing there, whether the
    # collection exists or not), then existence (404 to those who may read the bucket).
    filters = _filters(request, records)
    if not _collection_exists(request.registry, bucket_id, collection_id):
        raise _not_found("collection", collection_id)
    return _search(request, collection_id, bucket_id, _body(request), filters)


def _collection_exists(registry: Any, bucket_id: str, collection_id: str) -> bool:
    try:
        registry.storage.get("collection", bucket_uri(registry, bucket_id), collection_id)
    except ObjectNotFoundError:
        return False
    return True
