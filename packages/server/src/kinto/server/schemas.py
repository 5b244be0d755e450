"""JSON Schemas stored in the API: checking them, and validating objects against them.

A collection's ``schema`` field, and a bucket's ``collection:schema``,
``group:schema`` and ``record:schema`` fields, must be valid JSON Schemas
(their ``$schema`` picks the draft, Draft 7 by default): an invalid one is a
400. When ``kinto.experimental_collection_schema_validation`` is on, records
are validated against their collection's schema (then their bucket's
``record:schema``), and collections and groups against their bucket's.

Validation ignores the fields the server manages (``last_modified``, the
record's ``schema`` version) and ``id`` unless the schema names it; a
``required`` list naming only ignored fields requires nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

import jsonschema
from jsonschema.validators import validator_for
from referencing.exceptions import Unresolvable

__all__ = ["InvalidObject", "SchemaProblem", "check_schema", "validate"]


class SchemaProblem(ValueError):
    """The schema itself is not a valid JSON Schema."""


class InvalidObject(ValueError):
    """The object does not validate: ``field`` names the offending field (or is None)."""

    def __init__(self, field: str | None, description: str) -> None:
        self.field = field
        self.description = description
        super().__init__(description)


def check_schema(schema: Any) -> None:
    """Raise ``SchemaProblem`` unless ``schema`` is a valid JSON Schema object."""
    if not isinstance(schema, dict):
        raise SchemaProblem("A JSON Schema must be an object")
    try:
        _validator(_canonical(schema))
    except jsonschema.SchemaError as error:
        where = "/".join(str(part) for part in error.path)
        raise SchemaProblem(f"{where}: {error.message}" if where else error.message) from None


def validate(obj: dict[str, Any], schema: dict[str, Any], ignored: Iterable[str], id_field: str = "id") -> None:
    """Raise ``InvalidObject`` unless ``obj`` (without the ``ignored`` fields) validates ``schema``."""
    ignored = set(ignored)
    if id_field not in (schema.get("properties") or {}):
        ignored.add(id_field)
    required = schema.get("required")
    if isinstance(required, list):
        kept = [name for name in required if name not in ignored]
        schema = {**schema, "required": kept} if kept else {k: v for k, v in schema.items() if k != "required"}
    data = {key: value for key, value in obj.items() if key not in ignored}
    try:
        validator = _validator(_canonical(schema))
        error = jsonschema.exceptions.best_match(validator.iter_errors(data))
    except jsonschema.SchemaError as error:
        raise InvalidObject("schema", f"The schema is invalid: {error.message}") from None
    except Unresolvable as error:
        raise InvalidObject("schema", f"Unresolvable reference in the schema: {error}") from None
    if error is None:
        return
    raise InvalidObject(_field_of(error), error.message)


def _field_of(error: jsonschema.ValidationError) -> str | None:
    if error.absolute_path:
        return ".".join(str(part) for part in error.absolute_path)
    if error.validator in ("required", "dependentRequired", "dependencies") and "'" in error.message:
        return error.message.split("'")[1]
    return None


def _canonical(schema: dict[str, Any]) -> str:
    return json.dumps(schema, sort_keys=True, separators=(",", ":"))


@lru_cache(maxsize=512)
def _validator(schema_json: str) -> Any:
    """A compiled validator per distinct schema (schemas change rarely; records are many)."""
    schema = json.loads(schema_json)
    cls = validator_for(schema, default=jsonschema.Draft7Validator)
    cls.check_schema(schema)
    return cls(schema)
