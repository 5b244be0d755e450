"""Per-resource validation of object data: JSON Schema (or a colander schema, for Kinto apps)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, ClassVar, NoReturn

import jsonschema
from jsonschema import Draft7Validator
from referencing import Registry
from referencing.exceptions import NoSuchResource

__all__ = ["OFFLINE_REGISTRY", "ResourceSchema", "ValidationFailure", "schema_validator", "validate_data"]


def _refuse_retrieval(uri: str) -> NoReturn:
    raise NoSuchResource(ref=uri)


#: A ``referencing`` registry that retrieves nothing: validators built with it resolve references
#: inside their schema (and the draft meta-schemas jsonschema ships) only, never over the network
#: or from files, which jsonschema's default registry would do.
OFFLINE_REGISTRY: Registry[Any] = Registry(retrieve=_refuse_retrieval)  # type: ignore[call-arg]


class ValidationFailure(ValueError):
    """``field`` (a dotted path, or None for the whole object) is invalid, ``description`` says why."""

    def __init__(self, field: str | None, description: str) -> None:
        self.field = field
        self.description = description
        super().__init__(f"{field}: {description}" if field else description)


class ResourceSchema:
    """A JSON Schema holder for resources written the Kinto way (``class Schema(ResourceSchema)``).

    Subclasses set ``schema`` (a JSON Schema dict). ``additionalProperties``
    defaults to true, like Kinto's ``preserve`` unknown fields.
    """

    schema: ClassVar[dict[str, Any]] = {"type": "object"}


@lru_cache(maxsize=256)
def _compiled(schema_json: str) -> Draft7Validator:
    import json

    schema = json.loads(schema_json)
    Draft7Validator.check_schema(schema)
    return Draft7Validator(schema, format_checker=jsonschema.FormatChecker(), registry=OFFLINE_REGISTRY)


def schema_validator(schema: dict[str, Any]) -> Draft7Validator:
    import json

    return _compiled(json.dumps(schema, sort_keys=True))


def validate_data(schema: Any, data: dict[str, Any]) -> dict[str, Any]:
    """Validate ``data``; return it (possibly deserialised by colander) or raise ``ValidationFailure``."""
    if schema is None:
        return data
    if isinstance(schema, type) and issubclass(schema, ResourceSchema):
        schema = _colander_fields(schema) or schema.schema
    if hasattr(schema, "deserialize"):
        return _validate_colander(schema, data)
    validator = schema_validator(schema)
    error = jsonschema.exceptions.best_match(validator.iter_errors(data))
    if error is None:
        return data
    field = ".".join(str(part) for part in error.absolute_path) or None
    if error.validator == "required" and field is None:
        missing = error.message.split("'")[1] if "'" in error.message else None
        field = missing
    if error.validator == "additionalProperties" and field is None:
        field = error.message.split("'")[1] if "'" in error.message else None
    return _raise(field, error.message)


@lru_cache(maxsize=64)
def _colander_fields(schema_class: type) -> Any:
    """A Kinto-style ``ResourceSchema`` holding colander nodes as attributes: their mapping schema.

    Unknown fields are kept, as Kinto's resource schemas do. None when the
    class holds no colander node (its ``schema`` JSON Schema applies).
    """
    nodes = {
        name: value
        for klass in reversed(schema_class.__mro__)
        for name, value in vars(klass).items()
        if not name.startswith("_") and hasattr(value, "deserialize") and hasattr(value, "typ")
    }
    if not nodes:
        return None
    import colander

    mapping = colander.SchemaNode(colander.Mapping(unknown="preserve"))
    for name, node in nodes.items():
        child = node.clone()
        child.name = name
        mapping.add(child)
    return mapping


def _raise(field: str | None, description: str) -> Any:
    raise ValidationFailure(field, description)


def _validate_colander(schema: Any, data: dict[str, Any]) -> dict[str, Any]:
    import colander  # only for applications that bring colander schemas

    node = schema() if isinstance(schema, type) else schema
    try:
        return node.deserialize(data)
    except colander.Invalid as invalid:
        messages = invalid.asdict()
        field, description = next(iter(messages.items())) if messages else (None, str(invalid))
        raise ValidationFailure(field or None, description) from None
