"""Who may find a record: what is indexed with it, and the filter every search gets.

Each record is indexed with ``__kinto__ = {"principals": [...], "parent_id": ...}``:

* ``principals``: those holding ``read`` or ``write`` on the record itself,
  stored as keyed hashes (HMAC-SHA256 with ``kinto_elasticsearch.principals_secret``,
  else with the key ``kinto.core.secrets`` derives from ``userid_hmac_secret`` for
  this purpose, never the secret itself nor a constant), so that no full-text query
  can match a principal's name and no user-id HMAC answered by ``GET /v1/`` is
  one of these hashes;
* ``parent_id``: the owner of a ``UserResource`` object.

Permissions inherited from the collection or bucket are *not* indexed: they
change without the records changing, so they are checked when searching. A
caller who may read the whole collection (collection or bucket ``read`` or
``write``, or the ``<resource>_read_principals`` setting) searches without
filter; any other caller gets a filter clause keeping the records whose
indexed principals include one of its own. ``UserResource`` objects are found
by their owner only. The filter is applied by the indexer beside the client's
query (:meth:`~kinto_elasticsearch.indexer.IndexerBase.search`), never inside
it, so no body can remove it.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from typing import Any

from kinto.core.resource import ResourceContext
from kinto.core.secrets import SEARCH_PRINCIPALS, derived_key
from pyramid import httpexceptions

from kinto_elasticsearch.indexer import RESERVED_FIELD
from kinto_elasticsearch.resources import IndexedResource

__all__ = ["PrincipalHasher", "read_filters", "record_metadata"]


class PrincipalHasher:
    """Turns principals into the opaque tokens stored in the index."""

    def __init__(self, key: bytes) -> None:
        if not key:
            raise ValueError("PrincipalHasher needs a non-empty key")
        self._key = key

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> PrincipalHasher:
        """The hasher of ``kinto_elasticsearch.principals_secret``, else of the derived search key.

        ``ConfigurationError`` (naming ``kinto.userid_hmac_secret``) when neither secret is set.
        """
        dedicated = str(settings.get("kinto_elasticsearch.principals_secret") or "")
        if dedicated:
            return cls(dedicated.encode("utf-8"))
        return cls(derived_key(settings, SEARCH_PRINCIPALS))

    def __call__(self, principals: Iterable[str]) -> list[str]:
        return sorted({hmac.new(self._key, p.encode("utf-8"), hashlib.sha256).hexdigest()[:32] for p in principals})


def record_metadata(
    resource: IndexedResource, permissions: Mapping[str, Iterable[str]], parent_id: str, hasher: PrincipalHasher
) -> dict[str, Any]:
    """The ``__kinto__`` field of one record, from the permissions stored on it."""
    readers: set[str] = set()
    for permission in resource.own_read_permissions():
        readers.update(permissions.get(permission, ()))
    return {"principals": hasher(readers), "parent_id": parent_id if resource.per_user else ""}


def _denied() -> Exception:
    """The core's forbidden view answers it as for any resource: 401 to anonymous callers, else 403."""
    return httpexceptions.HTTPForbidden()


def read_filters(request: Any, resource: IndexedResource, hasher: PrincipalHasher) -> list[dict[str, Any]]:
    """The filter clauses restricting a search to what the caller may read (``[]``: everything).

    Raises 401/403 when the caller may not search at all, exactly when the
    resource's list (``GET`` of its plural endpoint) would answer them: a
    ``UserResource`` without authentication, a resource without per-object
    permissions it may not read, a shareable one of which it may read no
    object (nor create any). So a search never tells more than the list about
    what exists.
    """
    principals = list(request.prefixed_principals)
    resource_class = resource.resource_class
    context = ResourceContext(request, resource_class, "plural")
    if resource.per_user:
        userid = request.prefixed_userid
        if not userid or not resource_class.check_permission(context, principals, "read"):
            raise _denied()
        return [{"term": {f"{RESERVED_FIELD}.parent_id": userid}}]
    if not resource_class.check_permission(context, principals, "read"):
        raise _denied()
    if not resource.shareable or context.shared_ids is None:
        return []  # read on the whole list
    return [{"terms": {f"{RESERVED_FIELD}.principals": hasher(principals)}}]
