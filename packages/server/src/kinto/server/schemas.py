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

A schema never makes the server fetch anything. ``$ref`` (``$dynamicRef``,
``$recursiveRef``) may only point inside the schema (``#/definitions/x``,
``#anchor``) or name a draft's meta-schema, and ``$schema`` must name a known
draft: remote, file and relative references are refused when the schema is
written. Validators also hold a registry that retrieves nothing, so a schema
stored before these checks answers "unresolvable reference" instead.

Regular expressions (``pattern``, the keys of ``patternProperties``) run on
RE2 (:mod:`kinto.core.patterns`), in time linear in the text: a pattern RE2
cannot run (backreferences, lookarounds) or longer than
``kinto.core.patterns.MAX_REGEX_LENGTH`` is refused when the schema is
written. jsonschema evaluates ``unevaluatedProperties`` with Python's
backtracking ``re``, so a schema using it next to ``patternProperties`` is
refused too.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from functools import cache, lru_cache
from typing import Any

import jsonschema
from jsonschema import validators
from jsonschema.validators import validator_for
from kinto.core.patterns import PatternError, compile_regex
from kinto.core.resource.schema import OFFLINE_REGISTRY
from referencing.exceptions import Unresolvable

__all__ = ["InvalidObject", "SchemaProblem", "check_schema", "validate"]

#: Keywords holding a reference to another schema.
_REFERENCE_KEYWORDS = frozenset({"$ref", "$dynamicRef", "$recursiveRef"})
#: Keywords whose value maps names (of properties, definitions...) to subschemas.
_SCHEMA_MAPS = frozenset(
    {"properties", "patternProperties", "definitions", "$defs", "dependentSchemas", "dependencies"}
)
#: Keywords whose value is an instance, never a schema.
_INSTANCE_KEYWORDS = frozenset({"enum", "const", "default", "examples"})


class SchemaProblem(ValueError):
    """The schema itself is not a valid JSON Schema, or one this server refuses to run."""


class InvalidObject(ValueError):
    """The object does not validate: ``field`` names the offending field (or is None)."""

    def __init__(self, field: str | None, description: str) -> None:
        self.field = field
        self.description = description
        super().__init__(description)


def check_schema(schema: Any) -> None:
    """Raise ``SchemaProblem`` unless ``schema`` is a valid JSON Schema object this server can run."""
    if not isinstance(schema, dict):
        raise SchemaProblem("A JSON Schema must be an object")
    _validator(_canonical(schema))


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
    except (SchemaProblem, PatternError) as problem:
        raise InvalidObject("schema", f"The schema is invalid: {problem}") from None
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
    _check_keywords(schema)
    cls = validator_for(schema, default=jsonschema.Draft7Validator)
    try:
        cls.check_schema(schema)
    except jsonschema.SchemaError as error:
        where = "/".join(str(part) for part in error.path)
        raise SchemaProblem(f"{where}: {error.message}" if where else error.message) from None
    return _linear(cls)(schema, registry=OFFLINE_REGISTRY)


# --- what a schema may hold --------------------------------------------------------------------------


def _check_keywords(schema: dict[str, Any]) -> None:
    """Raise ``SchemaProblem`` for a reference outside the schema, an unknown draft or a regex RE2 cannot run."""
    seen = set()
    for location, keyword, value in _keywords(schema, ""):
        seen.add(keyword)
        if keyword in _REFERENCE_KEYWORDS and not _is_local_reference(value):
            raise SchemaProblem(f"{location}: only references inside the schema (#...) are allowed, not {value!r}")
        if keyword == "$schema" and not _is_meta_schema(value):
            raise SchemaProblem(f"{location}: unknown meta-schema {value!r}")
        if keyword == "pattern" and isinstance(value, str):
            _check_regex(location, value)
        if keyword == "patternProperties" and isinstance(value, dict):
            for pattern in value:
                _check_regex(f"{location}/{pattern}", pattern)
    if {"patternProperties", "unevaluatedProperties"} <= seen:
        raise SchemaProblem("unevaluatedProperties cannot be combined with patternProperties")


def _keywords(schema: Any, location: str) -> Iterator[tuple[str, str, Any]]:
    """``(location, keyword, value)`` for every keyword of ``schema`` and of its subschemas."""
    if not isinstance(schema, dict):
        return
    for keyword, value in schema.items():
        here = f"{location}/{keyword}" if location else keyword
        yield here, keyword, value
        for name, subschema in _subschemas(keyword, value):
            yield from _keywords(subschema, f"{here}/{name}" if name else here)


def _subschemas(keyword: str, value: Any) -> list[tuple[str, Any]]:
    # Unknown keywords holding objects are walked too: refusing too much beats missing a reference.
    if keyword in _INSTANCE_KEYWORDS:
        return []
    if isinstance(value, dict):
        return list(value.items()) if keyword in _SCHEMA_MAPS else [("", value)]
    if isinstance(value, list):
        return [(str(index), item) for index, item in enumerate(value)]
    return []


def _is_local_reference(reference: Any) -> bool:
    return isinstance(reference, str) and (reference.startswith("#") or _is_meta_schema(reference))


def _is_meta_schema(uri: Any) -> bool:
    """Whether ``uri`` names a draft's meta-schema (jsonschema ships them: nothing is fetched)."""
    return isinstance(uri, str) and validator_for({"$schema": uri}, default=None) is not None


def _check_regex(location: str, pattern: str) -> None:
    try:
        compile_regex(pattern)
    except PatternError as error:
        raise SchemaProblem(f"{location}: {error}") from None


# --- validators that retrieve nothing and run regular expressions on RE2 ----------------------------


def _search(pattern: str, text: str) -> bool:
    return compile_regex(pattern).search(text) is not None


def _pattern(validator: Any, pattern: str, instance: Any, schema: dict[str, Any]) -> Iterator[Any]:
    if validator.is_type(instance, "string") and not _search(pattern, instance):
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


def _pattern_properties(
    validator: Any, patterns: dict[str, Any], instance: Any, schema: dict[str, Any]
) -> Iterator[Any]:
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in patterns.items():
        for key, value in instance.items():
            if _search(pattern, key):
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)


def _additional_properties(validator: Any, additional: Any, instance: Any, schema: dict[str, Any]) -> Iterator[Any]:
    if not validator.is_type(instance, "object"):
        return
    properties = schema.get("properties", {})
    patterns = schema.get("patternProperties", {})
    extras = sorted(
        key for key in instance if key not in properties and not any(_search(pattern, key) for pattern in patterns)
    )
    if validator.is_type(additional, "object"):
        for extra in extras:
            yield from validator.descend(instance[extra], additional, path=extra)
        return
    if additional or not extras:
        return
    listed = ", ".join(repr(extra) for extra in extras)
    if patterns:
        verb = "does" if len(extras) == 1 else "do"
        regexes = ", ".join(repr(pattern) for pattern in sorted(patterns))
        yield jsonschema.ValidationError(f"{listed} {verb} not match any of the regexes: {regexes}")
    else:
        verb = "was" if len(extras) == 1 else "were"
        yield jsonschema.ValidationError(f"Additional properties are not allowed ({listed} {verb} unexpected)")


_LINEAR_KEYWORDS = {
    "pattern": _pattern,
    "patternProperties": _pattern_properties,
    "additionalProperties": _additional_properties,
}


@cache
def _linear(cls: Any) -> Any:
    """``cls`` with the keywords that run regular expressions on RE2."""
    keywords = {name: keyword for name, keyword in _LINEAR_KEYWORDS.items() if name in cls.VALIDATORS}
    return validators.extend(cls, keywords)
