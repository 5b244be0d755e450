"""Kinto's ``kinto.core.utils``: the helpers plugins written for Kinto 26.5 import.

Stable API for plugin authors (same names and call signatures as Kinto's):

=============================  =============================================================
name                           what it is
=============================  =============================================================
``COMPARISON``                 filter operators, ``kinto.core.storage.COMPARISON``
``hmac_digest``                ``kinto.core.authentication.hmac_digest`` (hex SHA-256 HMAC)
``msec_time``                  ``kinto.core.storage.timestamps.now_ms`` (epoch milliseconds)
``json``                       the standard library's ``json`` module (``dumps``/``loads``)
``sqlalchemy``                 the ``sqlalchemy`` module when installed, else ``None`` (Kinto's
                               PostgreSQL plugins test it; the core itself uses psycopg)
``instance_uri``               an object's URI without the version prefix, from its resource
                               name and ids: ``instance_uri(request, "record", bucket_id=...)``
``strip_uri_prefix``           ``/v1/buckets/b`` -> ``/buckets/b``
``view_lookup``                ``(resource_name, matchdict)`` of a URI (``ValueError`` if none)
``view_lookup_registry``       the same from a registry, outside of any request
``current_service``            the Cornice service that matched the request, or ``None``
``current_resource_name``      the resource (``"record"``...) whose route matched, or ``None``
``prefixed_userid``            ``request.prefixed_userid``
``prefixed_principals``        ``request.prefixed_principals``
``classname``, ``encode64``, ``decode64``, ``random_bytes_hex``, ``native_value``, ``read_env``,
``dict_subset``, ``dict_merge``, ``merge_dicts``, ``recursive_update_dict``, ``find_nested_value``
                               small data helpers, as Kinto defines them
=============================  =============================================================

Kinto's sub-request helpers (``build_request``, ``follow_subrequest``) and CORS internals
(``reapply_cors``) are not part of this API: batch requests are the core's business
(``kinto.core.views.batch``).
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from collections.abc import Mapping
from typing import Any

from pyramid.interfaces import IRoutesMapper
from pyramid.request import Request

from kinto.core.authentication import hmac_digest
from kinto.core.registry import route_prefix
from kinto.core.resource.registration import registered_resources
from kinto.core.storage import COMPARISON
from kinto.core.storage.timestamps import now_ms as msec_time

try:  # pragma: no cover - depends on what is installed
    import sqlalchemy
except ImportError:  # pragma: no cover
    sqlalchemy = None

__all__ = [
    "COMPARISON",
    "classname",
    "current_resource_name",
    "current_service",
    "decode64",
    "dict_merge",
    "dict_subset",
    "encode64",
    "find_nested_value",
    "hmac_digest",
    "instance_uri",
    "json",
    "merge_dicts",
    "msec_time",
    "native_value",
    "prefixed_principals",
    "prefixed_userid",
    "random_bytes_hex",
    "read_env",
    "recursive_update_dict",
    "sqlalchemy",
    "strip_uri_prefix",
    "view_lookup",
    "view_lookup_registry",
]

_ROUTE_SUFFIXES = ("-object", "-plural")


# --- URIs and routes -----------------------------------------------------------------------------


def strip_uri_prefix(path: str) -> str:
    """The path without its leading version segment (``/v1``), as permissions name objects."""
    segments = path.split("/", 2)
    if len(segments) > 1 and segments[1][:1] == "v" and segments[1][1:].isdigit():
        return "/" + (segments[2] if len(segments) > 2 else "")
    return path


def instance_uri(request: Any, resource_name: str, **params: Any) -> str:
    """The URI of one object of ``resource_name`` (its object route filled with ``params``), unprefixed."""
    return strip_uri_prefix(request.route_path(f"{resource_name}-object", **params))


def view_lookup_registry(registry: Any, uri: str) -> tuple[str, dict[str, Any]]:
    """``(resource_name, matchdict)`` of the route serving ``uri`` (an unprefixed object or list URI).

    The resource name is the route's name without ``-object``/``-plural`` (``"record"``); a URI no
    route serves raises ``ValueError``.
    """
    mapper = registry.queryUtility(IRoutesMapper)
    if mapper is None:
        raise ValueError(f"No route serves {uri!r}")
    prefix = route_prefix(registry)
    path = f"/{prefix}{uri}" if prefix else uri
    found = mapper(Request.blank(path))
    route = found["route"]
    if route is None:
        raise ValueError(f"No route serves {uri!r}")
    name = route.name
    for suffix in _ROUTE_SUFFIXES:
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    return name, dict(found["match"] or {})


def view_lookup(request: Any, uri: str) -> tuple[str, dict[str, Any]]:
    """:func:`view_lookup_registry` on the request's registry."""
    return view_lookup_registry(request.registry, uri)


def current_service(request: Any) -> Any:
    """The Cornice service whose route matched ``request``, or ``None`` (resource routes are not services)."""
    route = getattr(request, "matched_route", None)
    if route is None:
        return None
    services = getattr(request.registry, "cornice_services", {}) or {}
    return services.get(route.pattern)


def current_resource_name(request: Any) -> str | None:
    """The name of the registered resource whose route matched ``request`` (``"record"``), or ``None``."""
    route = getattr(request, "matched_route", None)
    if route is None:
        return None
    resources = registered_resources(request.registry)
    for info in resources.values():
        if route.name in (info.object_route, info.plural_route):
            return info.name
    return None


def prefixed_userid(request: Any) -> str | None:
    """The authenticated user id with its policy prefix (``basicauth:...``), or ``None``."""
    return request.prefixed_userid


def prefixed_principals(request: Any) -> list[str]:
    """Every principal of the request (``system.Everyone``, the prefixed user id, its groups...)."""
    return list(request.prefixed_principals)


# --- small data helpers ------------------------------------------------------------------------


def classname(obj: Any) -> str:
    """The lower-cased class name of ``obj`` (``Storage`` -> ``"storage"``)."""
    return type(obj).__name__.lower()


def random_bytes_hex(bytes_length: int) -> str:
    """``bytes_length`` random bytes from the OS's secure source, as hexadecimal text."""
    return secrets.token_hex(bytes_length)


def encode64(content: str, encoding: str = "utf-8") -> str:
    """``content`` in base64, as text."""
    return base64.b64encode(content.encode(encoding)).decode(encoding)


def decode64(encoded_content: str, encoding: str = "utf-8") -> str:
    """The text that :func:`encode64` encoded."""
    return base64.b64decode(encoded_content.encode(encoding)).decode(encoding)


def native_value(value: Any) -> Any:
    """A string read as JSON when it is JSON (``"1"`` -> ``1``, ``"true"`` -> ``True``), else unchanged."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def read_env(key: str, value: Any) -> Any:
    """The environment's value for setting ``key`` (``a.b-c`` -> ``A_B_C``) as :func:`native_value`, else ``value``.

    The core applies environment overrides to every setting itself (``kinto.core.settings``);
    this is for plugins reading a value of their own.
    """
    name = key.replace(".", "_").replace("-", "_").upper()
    if name in os.environ:
        return native_value(os.environ[name])
    return value


def merge_dicts(a: dict[str, Any], b: Mapping[str, Any]) -> None:
    """Copy into ``a`` what ``b`` has and ``a`` lacks, at every depth (``a`` wins on conflicts)."""
    for key, value in b.items():
        if isinstance(value, Mapping):
            merge_dicts(a.setdefault(key, {}), value)
        else:
            a.setdefault(key, value)


def recursive_update_dict(root: dict[str, Any], changes: Any, ignores: tuple[Any, ...] = ()) -> None:
    """Apply ``changes`` to ``root`` at every depth; a change whose value is in ``ignores`` removes the key."""
    if not isinstance(changes, Mapping):
        return
    for key, value in changes.items():
        if isinstance(value, Mapping):
            recursive_update_dict(root.setdefault(key, {}), value, ignores)
        elif value in ignores:
            root.pop(key, None)
        else:
            root[key] = value


def dict_merge(a: Mapping[str, Any], b: Mapping[str, Any]) -> dict[str, Any]:
    """A new dict: ``b`` with ``a`` merged over it (nested mappings merged, ``a`` wins)."""
    result = dict(b)
    for key, value in a.items():
        if isinstance(value, Mapping):
            nested = result.get(key)
            value = dict_merge(value, nested if isinstance(nested, Mapping) else {})
        result[key] = value
    return result


def dict_subset(d: Mapping[str, Any], keys: list[str]) -> dict[str, Any]:
    """The part of ``d`` that ``keys`` name; a dotted key (``"a.b"``) keeps ``d["a"]["b"]`` under ``a``."""
    result: dict[str, Any] = {}
    for key in keys:
        if "." not in key:
            if key in d:
                result[key] = d[key]
            continue
        head, rest = key.split(".", 1)
        if isinstance(d.get(head), Mapping):
            result[head] = dict_merge(dict_subset(d[head], [rest]), result.get(head, {}))
        elif head in d:
            result[head] = d[head]
    return result


def find_nested_value(d: Mapping[str, Any], path: str, default: Any = None) -> Any:
    """The value at the dotted ``path`` of ``d``; keys may contain dots themselves (the longest match wins)."""
    if path in d:
        return d[path]
    parts = path.split(".")
    for length in range(len(parts) - 1, 0, -1):
        head = ".".join(parts[:length])
        if head in d:
            nested = d[head]
            if not isinstance(nested, Mapping):
                return default
            return find_nested_value(nested, ".".join(parts[length:]), default)
    return default
