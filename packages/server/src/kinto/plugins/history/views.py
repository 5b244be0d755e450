"""``/buckets/<bid>/history``: the list of a bucket's history entries, read-only.

The usual list querystring applies (filters such as ``resource_name=record``
or ``target.data.id=r1``, ``_since``, ``_before``, ``_sort``, ``_limit`` and
pagination); as in Kinto, a filter or sort on a field entries do not have is
a 400, and ``*_id`` filters compare as text (``record_id=1`` finds record
``"1"``). The bucket's readers and writers see every entry, others the
entries they may read (see :mod:`.listener`); the bucket's writers may
``DELETE`` entries (filters apply). Entries have no URL of their own.
"""

from __future__ import annotations

from typing import Any, ClassVar

from kinto.core import resource
from kinto.core.errors import raise_invalid
from kinto.core.resource import querystring as qs
from kinto.core.storage import Filter

from kinto.server.views.hierarchy import HierarchicalResource

__all__ = ["History"]

#: What entries hold; a dotted field is known by its first part (``target.data.id``).
KNOWN_FIELDS = frozenset(
    {
        "id",
        "last_modified",
        "deleted",
        "user_id",
        "uri",
        "action",
        "date",
        "resource_name",
        "bucket_id",
        "collection_id",
        "group_id",
        "record_id",
        "target",
    }
)
_TEXT_IDS = ("bucket_id", "collection_id", "group_id", "record_id")


@resource.register(
    name="history",
    plural_path="/buckets/{{bucket_id}}/history",
    # The permission URI of each entry; no route is served there.
    object_path="/buckets/{{bucket_id}}/history/{{id}}",
    plural_methods=("GET", "DELETE"),
    object_methods=(),
)
class History(HierarchicalResource):
    """A bucket's history entries (stored by :func:`kinto.plugins.history.listener.record_changes`)."""

    parent_resource = "bucket"
    permissions: ClassVar[tuple[str, ...]] = ("read", "write")
    permission_inheritance: ClassVar[dict[str, dict[str, list[str]]]] = {
        "read": {"bucket": ["write", "read"], "history": ["write", "read"]},
        "write": {"bucket": ["write"], "history": ["write"]},
    }

    def is_known_field(self, field: str) -> bool:
        return field.split(".", 1)[0] in KNOWN_FIELDS

    def _query(self, for_delete: bool = False) -> qs.ListQuery:
        params = self._params()
        try:
            qs.parse_filters(params, self.id_field, self.modified_field, is_known_field=self.is_known_field)
            qs.parse_sorting(params.get("_sort"), self.modified_field, is_known_field=self.is_known_field)
        except qs.InvalidQuery as invalid:
            raise_invalid(self.request, location="querystring", name=invalid.name, description=invalid.description)
        query = super()._query(for_delete)
        query.filters = [_ids_as_text(condition) for condition in query.filters]
        return query


def _ids_as_text(condition: Filter) -> Filter:
    """Object ids are text: ``record_id=1`` means record ``"1"``, not the number (integers only, as Kinto)."""
    if condition.field not in _TEXT_IDS:
        return condition
    if isinstance(condition.value, list):
        return condition._replace(value=[_text(value) for value in condition.value])
    return condition._replace(value=_text(condition.value))


def _text(value: Any) -> Any:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value
