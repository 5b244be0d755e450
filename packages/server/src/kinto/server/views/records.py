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
        """Anonymous reads may be cached (see ``record_cache_expires``); identified ones never are."""
        super().cache_headers(response)
        if self.request.prefixed_userid is not None:
            return
        matchdict = self.request.matchdict
        seconds = record_cache_expires(
            self.request.registry.settings,
            matchdict["bucket_id"],
            matchdict["collection_id"],
            (self.parent_object or {}).get("cache_expires"),
        )
        if seconds is not None:
            response.cache_expires(seconds)


def record_cache_settings(bucket_id: str, collection_id: str) -> tuple[str, ...]:
    """The settings giving the cache lifetime of a collection's records, in Kinto's order: the first set wins.

    Kinto reads the per-collection and per-bucket spellings with dots before the global
    ``record_cache_expires_seconds``, and its older spellings with underscores after it.
    """
    suffix = "record_cache_expires_seconds"
    return (
        f"{bucket_id}.{collection_id}.{suffix}",
        f"{bucket_id}.{suffix}",
        suffix,
        f"{bucket_id}_{collection_id}_{suffix}",
        f"{bucket_id}_{suffix}",
    )


def record_cache_expires(settings: Any, bucket_id: str, collection_id: str, collection_value: Any) -> int | None:
    """Seconds an anonymous read of these records may be cached, or ``None`` (not cacheable).

    The first setting of ``record_cache_settings`` that is set, and the collection's
    ``cache_expires``: when both are given, the longer wins (a setting of 0 counts as unset
    against it), as in Kinto.
    """
    configured = next(
        (
            int(settings[key])
            for key in record_cache_settings(bucket_id, collection_id)
            if settings.get(key) not in (None, "")
        ),
        None,
    )
    if isinstance(collection_value, int) and not isinstance(collection_value, bool):
        return max(configured or -1, collection_value)
    return configured
