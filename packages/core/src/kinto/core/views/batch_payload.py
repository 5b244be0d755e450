"""The ``POST /batch`` payload: its rules, its JSON Schemas and its OpenAPI operation.

:func:`parse_batch_payload` turns a body into :class:`SubRequestSpec` objects (the defaults
merged into each sub-request) or raises :class:`BatchInvalid` listing every problem; the view
(:mod:`kinto.core.views.batch`) runs them. The schemas document the same rules for clients
(``GET /__api__``); the code, not the schema, is what enforces them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "OPENAPI_ERRORS",
    "REQUEST_BODY_SCHEMA",
    "RESPONSE_BODY_SCHEMA",
    "VALID_METHODS",
    "BatchInvalid",
    "SubRequestSpec",
    "merge_defaults",
    "openapi_operation",
    "parse_batch_payload",
]

#: Methods a sub-request may use (Kinto's list; HTTP methods are case-sensitive).
VALID_METHODS = ("GET", "HEAD", "DELETE", "TRACE", "POST", "PUT", "PATCH")

_PAYLOAD_FIELDS = frozenset({"defaults", "requests"})
_REQUEST_FIELDS = frozenset({"method", "path", "headers", "body"})
# RFC 9110 token characters, for header names.
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")
_HEADER_VALUE_FORBIDDEN = re.compile(r"[\x00\r\n]")

_SUB_REQUEST_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "method": {"enum": list(VALID_METHODS), "default": "GET"},
        "path": {"type": "string", "pattern": "^/", "not": {"pattern": "[\\x00-\\x1f\\x7f]"}},
        "headers": {
            "type": "object",
            # Negated character classes: ``$`` would let a trailing newline through.
            "propertyNames": {"minLength": 1, "not": {"pattern": "[^!#$%&'*+\\-.^_`|~0-9A-Za-z]"}},
            "additionalProperties": {"type": "string", "not": {"pattern": "[\\x00\\r\\n]"}},
        },
        "body": {"type": "object"},
    },
}

#: JSON Schema of the ``POST /batch`` body (for documentation and OpenAPI). Beyond it, the
#: view requires a ``path`` in each sub-request or in ``defaults``, at most
#: ``batch_max_requests`` requests, and none aimed at the batch endpoint itself.
REQUEST_BODY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["requests"],
    "properties": {
        "defaults": _SUB_REQUEST_SCHEMA,
        "requests": {"type": "array", "items": _SUB_REQUEST_SCHEMA},
    },
}

#: JSON Schema of a successful ``POST /batch`` answer.
RESPONSE_BODY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["responses"],
    "properties": {
        "responses": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["status", "path", "headers", "body"],
                "properties": {
                    "status": {"type": "integer"},
                    "path": {"type": "string"},
                    "headers": {"type": "object", "additionalProperties": {"type": "string"}},
                    "body": {},
                },
            },
        }
    },
}

#: Error statuses of ``POST /batch`` itself: a malformed payload, a body too large. Those of a
#: sub-request are in its own answer, or (a server error) the batch's, as that sub-request's.
OPENAPI_ERRORS = ("400", "413")


def openapi_operation() -> dict[str, Any]:
    """The OpenAPI operation of ``POST /batch``, without its error responses
    (:data:`OPENAPI_ERRORS`, which ``GET /__api__`` describes as every error)."""
    return {
        "operationId": "batch",
        "summary": "Run several requests in one transaction",
        "tags": ["batch"],
        "requestBody": {"required": True, "content": {"application/json": {"schema": REQUEST_BODY_SCHEMA}}},
        "responses": {
            "200": {
                "description": "Responses of the sub-requests",
                "content": {"application/json": {"schema": RESPONSE_BODY_SCHEMA}},
            }
        },
    }


@dataclass(frozen=True)
class SubRequestSpec:
    """One validated sub-request, defaults merged in."""

    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] | None = None


class BatchInvalid(ValueError):
    """The batch payload is malformed; ``problems`` lists ``(name, description)`` pairs."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{name}: {description}" for name, description in problems))
        self.problems = problems


# --- validation -----------------------------------------------------------------------------------


def merge_defaults(request: Mapping[str, Any], defaults: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``request`` completed by ``defaults``: the request's values win; where
    both hold an object under the same key, the two objects are merged the same way."""
    merged = dict(request)
    for key, default in defaults.items():
        if key not in merged:
            merged[key] = default
        elif isinstance(merged[key], dict) and isinstance(default, dict):
            merged[key] = merge_defaults(merged[key], default)
    return merged


def _check_request_shape(name: str, value: Any, problems: list[tuple[str, str]]) -> bool:
    """Check one sub-request (or the defaults) on its own; ``path`` may be missing here."""
    if not isinstance(value, dict):
        problems.append((name, "must be a JSON object"))
        return False
    valid = True
    for unknown in sorted(set(value) - _REQUEST_FIELDS):
        problems.append((f"{name}.{unknown}", "unknown field (expected method, path, headers, body)"))
        valid = False
    checks = (
        ("method", _method_problem),
        ("path", _path_problem),
        ("headers", _headers_problem),
        ("body", _body_problem),
    )
    for key, check in checks:
        if key not in value:
            continue
        problem = check(value[key])
        if problem is not None:
            problems.append((f"{name}.{key}", problem))
            valid = False
    return valid


def _method_problem(method: Any) -> str | None:
    if method not in VALID_METHODS:
        return f"{json.dumps(method)} is not one of {', '.join(VALID_METHODS)}"
    return None


def _path_problem(path: Any) -> str | None:
    if not isinstance(path, str) or not path.startswith("/"):
        return "must be a string starting with /"
    if _CONTROL_CHARACTERS.search(path):
        return "must not contain control characters"
    return None


def _headers_problem(headers: Any) -> str | None:
    if not isinstance(headers, dict):
        return "must be a JSON object of strings"
    for name, value in headers.items():
        if not _HEADER_NAME.fullmatch(name):
            return f"{json.dumps(name)} is not a valid header name"
        if not isinstance(value, str):
            return f"the value of {json.dumps(name)} must be a string"
        if _HEADER_VALUE_FORBIDDEN.search(value):
            return f"the value of {json.dumps(name)} must not contain line breaks or NUL"
    return None


def _body_problem(body: Any) -> str | None:
    if not isinstance(body, dict):
        return "must be a JSON object"
    return None


def parse_batch_payload(payload: Any, max_requests: int | None = None) -> list[SubRequestSpec]:
    """Validate a batch body and return its sub-requests with the defaults merged in.

    Raises :class:`BatchInvalid` listing every problem found (field names such
    as ``requests.2.path``): a body that is not an object, unknown fields,
    ``requests`` missing or not a list, more than ``max_requests`` of them,
    a method outside :data:`VALID_METHODS`, a path not starting with ``/``,
    headers that are not strings, a body that is not an object, or a
    sub-request without a path once the defaults are applied.
    """
    if not isinstance(payload, dict):
        raise BatchInvalid([("body", "must be a JSON object with a list of requests")])
    problems: list[tuple[str, str]] = []
    for unknown in sorted(set(payload) - _PAYLOAD_FIELDS):
        problems.append((unknown, "unknown field (expected defaults, requests)"))
    if "requests" not in payload:
        problems.append(("requests", "Required"))
    elif not isinstance(payload["requests"], list):
        problems.append(("requests", "must be a list of requests"))
    elif max_requests and len(payload["requests"]) > max_requests:
        problems.append(("requests", f"Number of requests is limited to {max_requests}"))
    defaults = payload.get("defaults", {})
    defaults_valid = _check_request_shape("defaults", defaults, problems)
    if problems:
        raise BatchInvalid(problems)

    specs = []
    for index, raw in enumerate(payload["requests"]):
        name = f"requests.{index}"
        if not _check_request_shape(name, raw, problems) or not defaults_valid:
            continue
        merged = merge_defaults(raw, defaults)
        if "path" not in merged:
            problems.append((f"{name}.path", "Required"))
            continue
        specs.append(
            SubRequestSpec(
                method=merged.get("method", "GET"),
                path=merged["path"],
                headers=dict(merged.get("headers", {})),
                body=merged.get("body"),
            )
        )
    if problems:
        raise BatchInvalid(problems)
    return specs
