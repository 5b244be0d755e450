"""``/buckets/{bucket_id}/collections``: containers of records, with an optional JSON Schema."""

from __future__ import annotations

from typing import Any, ClassVar

from kinto.core import resource

from kinto.server import cascade, indexes
from kinto.server.views.hierarchy import HierarchicalResource
from kinto.server.views.validation import check_collection_schema, validate_from_bucket


@resource.register(
    name="collection",
    plural_path="/buckets/{{bucket_id}}/collections",
    object_path="/buckets/{{bucket_id}}/collections/{{id}}",
)
class Collection(HierarchicalResource):
    """Collections: ``write`` grants everything on their records, ``read`` reading them,
    ``record:create`` adding records. The ``schema`` field holds the JSON Schema of records,
    ``indexed_fields`` the record fields to index (see :mod:`kinto.server.indexes`)."""

    schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {
            "schema": {"type": "object"},
            "cache_expires": {"type": "integer"},
            indexes.FIELD: indexes.SCHEMA,
        },
    }
    permissions: ClassVar[tuple[str, ...]] = ("read", "write", "record:create")
    parent_resource = "bucket"
    permission_inheritance: ClassVar[dict[str, dict[str, list[str]]]] = {
        "read": {"bucket": ["write", "read"], "collection": ["write", "read", "record:create"]},
        "write": {"bucket": ["write"], "collection": ["write"]},
        "record:create": {"bucket": ["write"], "collection": ["write", "record:create"]},
        "create": {"bucket": ["write", "collection:create"]},
    }

    def process_object(self, new: dict[str, Any], old: dict[str, Any] | None = None) -> dict[str, Any]:
        check_collection_schema(self.request, new)
        indexes.check_indexed_fields(self.request, new, old)
        validate_from_bucket(self, new, "collection")
        return new

    def delete(self) -> Any:
        body = super().delete()
        cascade.delete_collection_contents(
            self.request, self.request.matchdict["bucket_id"], [body["data"][self.id_field]]
        )
        return body

    def plural_delete(self) -> Any:
        body = super().plural_delete()
        cascade.delete_collection_contents(
            self.request, self.request.matchdict["bucket_id"], [obj[self.id_field] for obj in body["data"]]
        )
        return body
