"""Kinto's ``kinto.schema_validation``: JSON Schema checks plugins written for Kinto 26.5 call.

Stable API for plugin authors (Kinto's names and signatures; the validation itself is
``kinto.server.schemas``: local references only, linear-time patterns):

* ``check_schema(data)``: raise ``ValidationError`` unless ``data`` is a JSON Schema the server runs;
* ``validate(data, schema)``, ``validate_schema(data, schema, id_field, ignore_fields=None)``:
  raise ``ValidationError`` unless ``data`` validates (``ignore_fields`` and, when the schema does
  not declare it, ``id_field`` left out);
* ``validate_from_bucket_schema_or_400(data, resource_name, request, id_field, ignore_fields)``:
  Kinto's 400 unless ``data`` validates the ``<resource_name>:schema`` of the request's bucket
  (nothing is checked while ``experimental_collection_schema_validation`` is off);
* ``ValidationError``, ``SchemaError``, ``RefResolutionError``: the exceptions, as Kinto re-exports them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from jsonschema import SchemaError, ValidationError
from kinto.core.errors import raise_invalid
from kinto.core.storage import ObjectNotFoundError
from referencing.exceptions import Unresolvable as RefResolutionError

from kinto.server import schemas
from kinto.server.views.validation import BUCKET_SCHEMA_FIELDS, schema_validation_enabled

__all__ = [
    "RefResolutionError",
    "SchemaError",
    "ValidationError",
    "check_schema",
    "validate",
    "validate_from_bucket_schema_or_400",
    "validate_schema",
]


def check_schema(data: Any) -> None:
    """Raise ``ValidationError`` unless ``data`` is a valid JSON Schema this server accepts."""
    try:
        schemas.check_schema(data)
    except schemas.SchemaProblem as problem:
        raise ValidationError(str(problem)) from None


def validate_schema(
    data: dict[str, Any], schema: dict[str, Any], id_field: str, ignore_fields: Iterable[str] | None = None
) -> None:
    """Raise ``ValidationError`` (its ``path`` naming the field, when known) unless ``data`` validates."""
    try:
        schemas.validate(data, schema, ignored=tuple(ignore_fields or ()), id_field=id_field)
    except schemas.InvalidObject as invalid:
        error = ValidationError(invalid.description, path=invalid.field.split(".") if invalid.field else ())
        raise error from None


def validate(data: dict[str, Any], schema: dict[str, Any]) -> None:
    """:func:`validate_schema` with nothing left out but an ``id`` the schema does not declare."""
    validate_schema(data, schema, id_field="id")


def validate_from_bucket_schema_or_400(
    data: dict[str, Any], resource_name: str, request: Any, id_field: str, ignore_fields: Iterable[str] | None = None
) -> None:
    """Kinto's 400 unless ``data`` validates the ``<resource_name>:schema`` of the request's bucket."""
    if not schema_validation_enabled(request.registry.settings):
        return
    field = BUCKET_SCHEMA_FIELDS.get(resource_name, f"{resource_name}:schema")
    try:
        bucket = request.registry.storage.get("bucket", "", request.matchdict["bucket_id"])
    except (KeyError, ObjectNotFoundError):
        return
    schema = bucket.get(field)
    if not isinstance(schema, dict):
        return
    try:
        schemas.validate(data, schema, ignored=tuple(ignore_fields or ()), id_field=id_field)
    except schemas.InvalidObject as invalid:
        raise_invalid(request, location="body", name=invalid.field, description=invalid.description)
