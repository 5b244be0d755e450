"""``/buckets/{bucket_id}/collections/{collection_id}/records``: the data, synchronised with ``_since``."""

from __future__ import annotations

from typing import Any, ClassVar

from kinto.core import resource

from kinto.server.views.hierarchy import HierarchicalResource
from kinto.server.views.validation import validate_record

_PARENT = "/buckets/{{bucket_id}}/collections/{{collection_id}}"


@resource.register(name="record", plural_path=_PARENT + "/records", object_path=_PARENT + "/records/{{id}}")
class Record(HierarchicalResource):
    """Records: any JSON object, validated against the collection's ``schema`` when that is enabled.

    Ids are UUID4s when the server draws them (POST), any name matching
    ``^[a-zA-Z0-9][a-zA-Z0-9_-]*$`` when the client picks them (PUT).
    """

    parent_resource = "collection"
    permission_inheritance: ClassVar[dict[str, dict[str, list[str]]]] = {
        "read": {"bucket": ["write", "read"], "collection": ["write", "read"], "record": ["write", "read"]},
        "write": {"bucket": ["write"], "collection": ["write"], "record": ["write"]},
        "create": {"bucket": ["write"], "collection": ["write", "record:create"]},
    }

    def process_object(self, new: dict[str, Any], old: dict[str, Any] | None = None) -> dict[str, Any]:
        return validate_record(self, new, self.parent_object or {})

    def cache_headers(self, response: Any) -> None:
        """Anonymous reads get the collection's ``cache_expires`` (if any) as cache headers."""
        super().cache_headers(response)
        seconds = (self.parent_object or {}).get("cache_expires")
        if self.request.prefixed_userid is None and isinstance(seconds, int):
            response.cache_expires(seconds)
