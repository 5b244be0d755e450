"""The view behind ``/buckets/default`` and ``/buckets/default/{subpath}``.

It makes sure the caller's bucket (and the collection the path names) exists, then
answers the same request sent to the real bucket's path, as a sub-request going
through the tweens (authenticated, validated and answered in the error format as
itself) and joining this request's transaction and events, as batch sub-requests do.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from kinto.core.errors import ERRORS, http_error, invalid
from kinto.core.events import ACTIONS, notify_resource_event
from kinto.core.resource.model import call_model
from kinto.core.storage import ObjectNotFoundError, UnicityError
from pyramid import httpexceptions
from pyramid.interfaces import IRequestFactory
from pyramid.request import Request

from kinto.server.views.buckets import Bucket
from kinto.server.views.collections import Collection
from kinto.server.views.hierarchy import bucket_uri, collection_uri

__all__ = ["BUCKET_ROUTE", "SUBPATH_ROUTE", "default_bucket"]

BUCKET_ROUTE = "default_bucket"
SUBPATH_ROUTE = "default_bucket_collection"

_ALIAS = "/buckets/default"
#: What ``bound_data`` remembers of the objects already made sure of (a batch asks once per object).
_ENSURED_KEY = "default_bucket_ensured"
# The sub-request gets its own body framing.
_FRAMING_HEADERS = frozenset({"content-length", "transfer-encoding", "content-encoding"})
# Left as they are when the decoded path is percent-encoded again for WSGI.
_PATH_SAFE = "/&=:@!$'()*+,;~-._"


def default_bucket(request: Any) -> Any:
    if request.method == "OPTIONS":
        # As Kinto: the answer of the same path in a bucket nobody has, for anybody.
        return _forward(request, "unknown")
    if request.authenticated_userid is None:
        raise httpexceptions.HTTPForbidden()  # the forbidden view answers 401 to anonymous callers
    if request.registry.settings["readonly"]:
        raise http_error(
            httpexceptions.HTTPMethodNotAllowed(),
            errno=ERRORS.METHOD_NOT_ALLOWED,
            message="Method not allowed on this endpoint.",
        )
    bucket_id = request.default_bucket_id
    subpath = request.matchdict.get("subpath")
    if not (request.method == "PUT" and subpath is None):
        _ensure_bucket(request, bucket_id)
    collection_id = _collection_named(subpath)
    if collection_id is not None and not (request.method == "PUT" and subpath.rstrip("/").count("/") == 1):
        _ensure_collection(request, bucket_id, collection_id)
    return _forward(request, bucket_id)


def _collection_named(subpath: str | None) -> str | None:
    """The collection id of ``collections/<id>[/...]``, else ``None``."""
    parts = (subpath or "").split("/")
    if len(parts) >= 2 and parts[0] == "collections" and parts[1]:
        return parts[1]
    return None


# --- implicit creation ---------------------------------------------------------------------------


def _ensure_bucket(request: Any, bucket_id: str) -> None:
    _ensure(request, Bucket, parent_id="", object_id=bucket_id, uri=bucket_uri(bucket_id), ids={"bucket_id": bucket_id})


def _ensure_collection(request: Any, bucket_id: str, collection_id: str) -> None:
    if not Collection.valid_id(request.registry.settings, collection_id):
        raise invalid("Invalid collection id", location="path")
    _ensure(
        request,
        Collection,
        parent_id=bucket_uri(bucket_id),
        object_id=collection_id,
        uri=collection_uri(bucket_id, collection_id),
        ids={"bucket_id": bucket_id, "collection_id": collection_id},
    )


def _ensure(request: Any, resource: Any, parent_id: str, object_id: str, uri: str, ids: dict[str, str]) -> None:
    """Create the object ``uri`` of ``resource`` unless it exists, owned by the caller, and announce it."""
    ensured = request.bound_data.setdefault(_ENSURED_KEY, set())
    if uri in ensured:
        return
    registry = request.registry
    try:
        registry.storage.get(resource.name, parent_id, object_id)
    except ObjectNotFoundError:
        model = resource.default_model(
            storage=registry.storage,
            permission=registry.permission,
            resource_name=resource.name,
            parent_id=parent_id,
            current_principal=request.prefixed_userid,
            prefixed_principals=request.prefixed_principals,
            explicit_permissions=registry.settings["explicit_permissions"],
            permission_object_id=lambda _object_id: uri,
        )
        try:
            created = call_model(model, "create", {"id": object_id})
        except UnicityError:  # created meanwhile by another request
            pass
        else:
            shown = {key: value for key, value in created.items() if key != model.permissions_field}
            notify_resource_event(
                request,
                parent_id,
                created[model.modified_field],
                shown,
                ACTIONS.CREATE,
                resource_name=resource.name,
                resource_data={**ids, "uri": uri},
            )
    ensured.add(uri)


# --- the sub-request -----------------------------------------------------------------------------


def _forward(request: Any, bucket_id: str) -> Any:
    """The answer of this request sent to the same path in bucket ``bucket_id``."""
    path = request.path_info
    start = path.index(_ALIAS)
    real_path = path[:start] + bucket_uri(bucket_id) + path[start + len(_ALIAS) :]
    body = request.body
    if request.matchdict.get("subpath") is None:
        body = _body_naming_bucket(request, body, bucket_id)
    headers = {name: value for name, value in request.headers.items() if name.lower() not in _FRAMING_HEADERS}
    target = quote(real_path.encode("utf-8"), safe=_PATH_SAFE)
    if request.query_string:
        target += "?" + request.query_string
    factory = request.registry.queryUtility(IRequestFactory, default=Request)
    environ = {"REMOTE_ADDR": request.remote_addr} if request.remote_addr else {}
    subrequest = factory.blank(
        target, environ=environ, base_url=request.application_url, headers=headers, method=request.method, body=body
    )
    # Joins this request's transaction and gathers its events with this request's.
    subrequest.parent = request
    subrequest.bound_data = request.bound_data
    response = request.invoke_subrequest(subrequest, use_tweens=True)
    location = response.headers.get("Location")
    if location and 300 <= response.status_code < 400:
        # A redirect (a trailing slash) keeps the client on the alias, as Kinto's do.
        real, alias = quote(bucket_uri(bucket_id)), _ALIAS
        response.headers["Location"] = location.replace(real, alias, 1)
    return response


def _body_naming_bucket(request: Any, body: bytes, bucket_id: str) -> bytes:
    """A body naming the bucket ``default`` (``{"data": {"id": "default"}}``) names the real one."""
    if not body or "json" not in (request.content_type or ""):
        return body
    try:
        parsed = json.loads(body)
    except ValueError:
        return body
    data = parsed.get("data") if isinstance(parsed, dict) else None
    if not isinstance(data, dict) or data.get("id") != "default":
        return body
    return json.dumps({**parsed, "data": {**data, "id": bucket_id}}).encode("utf-8")
