"""Answering 400 for schemas that are not JSON Schemas and objects that do not validate theirs."""

from __future__ import annotations

from typing import Any

from kinto.core import errors

from kinto.server import schemas

__all__ = [
    "BUCKET_SCHEMA_FIELDS",
    "check_bucket_schemas",
    "check_collection_schema",
    "schema_validation_enabled",
    "validate_from_bucket",
    "validate_record",
]

#: The bucket fields holding the JSON Schema of its children, by child resource name.
BUCKET_SCHEMA_FIELDS = {"collection": "collection:schema", "group": "group:schema", "record": "record:schema"}
#: The record field set to the timestamp of the collection whose schema it was validated against.
RECORD_SCHEMA_FIELD = "schema"


def _check(request: Any, field: str, schema: Any) -> None:
    try:
        schemas.check_schema(schema)
    except schemas.SchemaProblem as problem:
        raise errors.invalid(f"Invalid JSON Schema: {problem}", location="body", name=f"data.{field}")


def check_bucket_schemas(request: Any, bucket: dict[str, Any]) -> None:
    """400 unless every ``<kind>:schema`` field of ``bucket`` is a valid JSON Schema."""
    for field in BUCKET_SCHEMA_FIELDS.values():
        if field in bucket:
            _check(request, field, bucket[field])


def check_collection_schema(request: Any, collection: dict[str, Any]) -> None:
    """400 unless the collection's ``schema`` field (when present) is a valid JSON Schema."""
    if "schema" in collection:
        _check(request, "schema", collection["schema"])


def schema_validation_enabled(settings: dict[str, Any]) -> bool:
    return settings["experimental_collection_schema_validation"]


def _validate(request: Any, obj: dict[str, Any], schema: dict[str, Any], ignored: tuple[str, ...]) -> None:
    try:
        schemas.validate(obj, schema, ignored=ignored)
    except schemas.InvalidObject as invalid:
        raise errors.invalid(invalid.description, location="body", name=invalid.field)


def validate_from_bucket(resource: Any, obj: dict[str, Any], kind: str, ignored: tuple[str, ...] = ()) -> None:
    """Validate ``obj`` (a ``kind`` child of the request's bucket) against the bucket's ``<kind>:schema``."""
    request = resource.request
    if not schema_validation_enabled(request.registry.settings):
        return
    bucket = resource.bucket_object
    schema = bucket.get(BUCKET_SCHEMA_FIELDS[kind]) if bucket else None
    if isinstance(schema, dict):
        _validate(request, obj, schema, (resource.modified_field, *ignored))


def validate_record(resource: Any, record: dict[str, Any], collection: dict[str, Any]) -> dict[str, Any]:
    """Validate ``record`` against its collection's schema and its bucket's ``record:schema``.

    A record validated against a collection schema is stamped with the
    collection's ``last_modified`` in its ``schema`` field (the schema version).
    """
    request = resource.request
    if not schema_validation_enabled(request.registry.settings):
        return record
    ignored = (resource.modified_field, RECORD_SCHEMA_FIELD)
    schema = collection.get("schema")
    if isinstance(schema, dict):
        _validate(request, record, schema, ignored)
        record = {**record, RECORD_SCHEMA_FIELD: collection[resource.modified_field]}
    validate_from_bucket(resource, record, "record", ignored=(RECORD_SCHEMA_FIELD,))
    return record
