"""Kinto's ``kinto.views``: the server-level names plugins written for Kinto 26.5 import.

Stable API for plugin authors:

* ``NameGenerator``, ``RelaxedUUID``: the id generators of buckets/collections/groups and of
  records (``kinto.server.ids``);
* ``object_exists_or_404(request, resource_name, object_id, parent_id="")``: the stored object,
  or Kinto's 404 naming it;
* ``kinto.views.buckets.Bucket``, ``kinto.views.collections.Collection``,
  ``kinto.views.groups.Group``, ``kinto.views.records.Record``: the resource classes, built as
  ``Record(request, context=...)`` by plugin views (``kinto.server.views``).
"""

from __future__ import annotations

from typing import Any

from kinto.core.storage import ObjectNotFoundError

from kinto.server.ids import NameGenerator, RelaxedUUID
from kinto.server.views.hierarchy import missing_object

__all__ = ["NameGenerator", "RelaxedUUID", "object_exists_or_404"]


def object_exists_or_404(request: Any, resource_name: str, object_id: str, parent_id: str = "") -> dict[str, Any]:
    """The object ``object_id`` of ``resource_name`` under ``parent_id``, or a 404 (errno 111) naming it."""
    try:
        return request.registry.storage.get(resource_name, parent_id, object_id)
    except ObjectNotFoundError:
        raise missing_object(resource_name, object_id) from None
