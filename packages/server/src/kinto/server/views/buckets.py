"""``/buckets``: the top of the hierarchy, and who may create it (``kinto.bucket_create_principals``)."""

from __future__ import annotations

from typing import Any, ClassVar

from kinto.core import resource

from kinto.server import cascade
from kinto.server.views.hierarchy import HierarchicalResource
from kinto.server.views.validation import check_bucket_schemas


@resource.register(name="bucket", plural_path="/buckets", object_path="/buckets/{{id}}")
class Bucket(HierarchicalResource):
    """Buckets: containers of collections and groups.

    ``write`` on a bucket grants everything below it; ``read`` lets one read
    everything below; ``collection:create`` and ``group:create`` let one add
    children (and read the bucket's own attributes).
    """

    schema: ClassVar[dict[str, Any]] = {"type": "object"}
    permissions: ClassVar[tuple[str, ...]] = ("read", "write", "collection:create", "group:create")
    permission_inheritance: ClassVar[dict[str, dict[str, list[str]]]] = {
        "read": {"bucket": ["write", "read", "collection:create", "group:create"]},
        "write": {"bucket": ["write"]},
        "collection:create": {"bucket": ["write", "collection:create"]},
        "group:create": {"bucket": ["write", "group:create"]},
        "create": {},
    }

    def process_object(self, new: dict[str, Any], old: dict[str, Any] | None = None) -> dict[str, Any]:
        check_bucket_schemas(self.request, new)
        return new

    def delete(self) -> Any:
        body = super().delete()
        cascade.delete_bucket_contents(self.request, [body["data"][self.id_field]])
        return body

    def plural_delete(self) -> Any:
        body = super().plural_delete()
        cascade.delete_bucket_contents(self.request, [obj[self.id_field] for obj in body["data"]])
        return body
