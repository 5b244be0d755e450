"""``GET /v1/__api__``: an OpenAPI 3.1 document of this application.

Built once per application from what is registered: the resources of
``kinto.core.resource`` (with their querystring parameters, bodies and JSON
schemas), the core's own services (batch, whose operation
:func:`kinto.core.views.batch.openapi_operation` describes), and every other
route with the methods its views accept (plugins' services included).
"""

from __future__ import annotations

import copy
import re
from typing import Any

from pyramid.interfaces import IRoutesMapper
from pyramid.security import NO_PERMISSION_REQUIRED

from kinto.core.resource.registration import registered_resources
from kinto.core.service import Service
from kinto.core.settings import api_prefix
from kinto.core.views import batch as batch_views

__all__ = ["build_openapi", "openapi"]

openapi = Service(name="openapi", path="/__api__", description="OpenAPI description of this API")

_CACHE_KEY = "kinto.openapi"
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?::[^}]*)?\}")
_HTTP_METHODS = ("get", "head", "post", "put", "patch", "delete", "options")

_ERROR_SCHEMA = {
    "type": "object",
    "required": ["code", "errno", "error"],
    "properties": {
        "code": {"type": "integer"},
        "errno": {"type": "integer"},
        "error": {"type": "string"},
        "message": {"type": "string"},
        "info": {"type": "string"},
        "details": {},
    },
}
_PRINCIPALS_SCHEMA = {"type": "array", "items": {"type": "string", "minLength": 1}}
#: What ``If-Match``/``If-None-Match`` accept: ``*`` or quoted timestamps (anything else is a 400).
_ETAGS_PATTERN = r'^(\*|"[0-9]+"( *, *"[0-9]+")*)$'
#: A field name as ``_sort`` and ``_fields`` take it (the server also accepts non-ASCII letters).
_FIELD = r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*"
#: Timestamps fit a signed 64-bit column; the server answers 400 beyond.
_TIMESTAMP_SCHEMA = {"type": "integer", "minimum": -(2**63), "maximum": 2**63 - 1}
#: Statuses any resource operation may answer: bad input, no or wrong credentials, unknown object or
#: parent, a failed precondition.
_RESOURCE_ERRORS = ("400", "401", "403", "404", "412")
#: And those of operations with a body: too large, or not JSON.
_BODY_ERRORS = (*_RESOURCE_ERRORS, "413", "415")


@openapi.get(permission=NO_PERMISSION_REQUIRED)
def get_openapi(request: Any) -> dict[str, Any]:
    registry = request.registry
    document = registry.get(_CACHE_KEY)
    if document is None:
        document = registry[_CACHE_KEY] = build_openapi(registry)
    server = request.application_url.rstrip("/") + "/" + api_prefix(registry.settings)
    return {**document, "servers": [{"url": server}]}


def build_openapi(registry: Any) -> dict[str, Any]:
    """The OpenAPI document (without ``servers``, which depends on the request)."""
    settings = registry.settings
    prefix = "/" + api_prefix(settings)
    paths: dict[str, dict[str, Any]] = {}
    covered: set[str] = set()

    resources = registered_resources(registry)
    for info in resources.values():
        name, cls = info.name, info.resource_class
        schema = _resource_schema(cls)
        plural, obj = _openapi_path(info.plural_path), _openapi_path(info.object_path)
        if info.plural_methods:
            parameters = _id_parameters(plural, cls, resources)
            paths[plural] = _plural_operations(name, cls, parameters, schema, info.plural_methods)
        if info.object_methods:
            parameters = _id_parameters(obj, cls, resources)
            paths[obj] = _object_operations(name, cls, parameters, schema, info.object_methods)
        covered |= {info.plural_route, info.object_route}

    batch_operation = batch_views.openapi_operation()
    batch_errors = _error_responses(*batch_views.OPENAPI_ERRORS)
    paths[batch_views.BATCH_PATH] = {
        "post": {**batch_operation, "responses": {**batch_operation["responses"], **batch_errors}}
    }
    covered.add("batch")

    for route_name, pattern, methods in _other_routes(registry, prefix):
        if route_name in covered or not methods:
            continue
        path = _openapi_path(pattern)
        entry = paths.setdefault(path, {})
        parameters = _path_parameters(path)
        for method in methods:
            operation: dict[str, Any] = {
                "operationId": f"{route_name}_{method}",
                "tags": [route_name],
                "responses": {"200": {"description": "Success"}, **_error_responses("400")},
            }
            if parameters:
                operation["parameters"] = parameters
            entry.setdefault(method, operation)

    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": settings["project_name"] or "kinto.core application",
            "version": settings["project_version"] or "0.0.0",
            "description": f"HTTP API version {settings['http_api_version']}",
        },
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": {"Error": _ERROR_SCHEMA},
            "securitySchemes": _security_schemes(settings),
        },
    }
    schemes = document["components"]["securitySchemes"]
    if schemes:
        document["security"] = [{}] + [{name: []} for name in schemes]
    return document


# --- resources ------------------------------------------------------------------------------------


def _resource_schema(cls: Any) -> dict[str, Any]:
    schema = getattr(cls, "schema", None)
    if isinstance(schema, type) and hasattr(schema, "schema"):
        schema = schema.schema
    if not isinstance(schema, dict):
        schema = {"type": "object"}
    properties = dict(schema.get("properties", {}))
    properties.setdefault("id", {"type": "string"})
    properties.setdefault("last_modified", {"type": "integer"})
    stored = {**schema, "properties": properties}
    stored.pop("required", None)  # id and last_modified are given by the server
    if schema.get("additionalProperties") is False:
        stored["additionalProperties"] = False
    return stored


def _object_body(cls: Any, schema: dict[str, Any]) -> dict[str, Any]:
    properties: dict[str, Any] = {"data": schema}
    if getattr(cls, "shareable", False):
        # Permissions the resource does not know are a 400.
        names = getattr(cls, "permissions", ())
        properties["permissions"] = {
            "type": "object",
            "properties": {name: _PRINCIPALS_SCHEMA for name in names},
            "additionalProperties": False,
        }
    return {"type": "object", "properties": properties}


#: An operation of a method: (operationId, parameters, responses, request body content or None).
_Shape = tuple[str, list[Any], dict[str, Any], "dict[str, Any] | None"]


def _operations(name: str, methods: tuple[str, ...], shapes: dict[str, _Shape]) -> dict[str, Any]:
    """The OpenAPI operations of the ``methods`` a route serves, from their shapes."""
    operations: dict[str, Any] = {}
    for method, (operation_id, parameters, responses, content) in shapes.items():
        if method not in methods:
            continue
        operation = {"operationId": operation_id, "tags": [name], "parameters": parameters, "responses": responses}
        if content is not None:
            operation["requestBody"] = {"content": content}
        # Each operation its own copy: the document is completed in place later (plugins, filters).
        operations[method.lower()] = copy.deepcopy(operation)
    return operations


def _plural_operations(
    name: str, cls: Any, path_parameters: list[dict[str, Any]], schema: dict[str, Any], methods: tuple[str, ...]
) -> dict[str, Any]:
    list_parameters = path_parameters + _list_parameters()
    listing = {"type": "object", "properties": {"data": {"type": "array", "items": schema}}}
    headers = {
        "ETag": {"schema": {"type": "string"}, "description": "The collection timestamp, quoted"},
        "Next-Page": {"schema": {"type": "string"}, "description": "URL of the next page, when there is one"},
    }
    errors = _error_responses(*_RESOURCE_ERRORS)
    created = _object_body(cls, schema)
    count = {
        "description": "Total-Objects header gives the count",
        "headers": {"Total-Objects": {"schema": {"type": "string"}}},
    }
    shapes: dict[str, _Shape] = {
        "GET": (
            f"list_{name}s",
            list_parameters,
            {
                "200": {**_json_response(f"The {name} objects", listing), "headers": headers},
                "304": {"description": "Not modified"},
                **errors,
            },
            None,
        ),
        "HEAD": (f"count_{name}s", list_parameters, {"200": count, **errors}, None),
        "POST": (
            f"create_{name}",
            path_parameters,
            {
                "201": _json_response("Created", created),
                "200": _json_response("Exists already", created),
                **_error_responses(*_BODY_ERRORS),
            },
            {"application/json": {"schema": created}},
        ),
        "DELETE": (
            f"delete_{name}s",
            list_parameters,
            {
                "200": _json_response("Tombstones of the deleted objects", listing),
                **errors,
            },
            None,
        ),
    }
    return _operations(name, methods, shapes)


def _object_operations(
    name: str, cls: Any, parameters: list[dict[str, Any]], schema: dict[str, Any], methods: tuple[str, ...]
) -> dict[str, Any]:
    body = _object_body(cls, schema)
    single = _json_response(f"The {name}", body)
    etags = {"type": "string", "pattern": _ETAGS_PATTERN}
    preconditions = [
        {"name": "If-Match", "in": "header", "required": False, "schema": etags},
        {"name": "If-None-Match", "in": "header", "required": False, "schema": etags},
    ]
    # An empty id leaves a trailing slash, which reads redirect away (``trailing_slash_redirect_enabled``).
    redirect = {
        "description": "The same URL without its trailing slash (an empty id)",
        "headers": {"Location": {"schema": {"type": "string"}}},
    }
    patch_ops = {"type": "array", "items": {"type": "object", "required": ["op", "path"]}}
    response_behavior = {
        "name": "Response-Behavior",
        "in": "header",
        "required": False,
        "schema": {"enum": ["full", "light", "diff"]},
    }
    read_responses = {"304": {"description": "Not modified"}, "307": redirect, **_error_responses(*_RESOURCE_ERRORS)}
    common = parameters + preconditions
    shapes: dict[str, _Shape] = {
        "GET": (
            f"get_{name}",
            [*common, _query("_fields", "Fields to return, comma-separated")],
            {"200": single, **read_responses},
            None,
        ),
        "HEAD": (f"head_{name}", common, {"200": {"description": "Exists"}, **read_responses}, None),
        "PUT": (
            f"replace_{name}",
            common,
            {"200": single, "201": single, **_error_responses(*_BODY_ERRORS)},
            {"application/json": {"schema": body}},
        ),
        "PATCH": (
            f"update_{name}",
            [*common, response_behavior],
            {"200": single, **_error_responses(*_BODY_ERRORS)},
            {
                "application/json": {"schema": {"type": "object"}},
                "application/merge-patch+json": {"schema": {"type": "object"}},
                "application/json-patch+json": {"schema": patch_ops},
            },
        ),
        "DELETE": (
            f"delete_{name}",
            common,
            {"200": _json_response("The tombstone", {"type": "object"}), **_error_responses(*_RESOURCE_ERRORS)},
            None,
        ),
    }
    return _operations(name, methods, shapes)


def _list_parameters() -> list[dict[str, Any]]:
    return [
        _query("_limit", "Page size (0: the server's)", {"type": "integer", "minimum": 0}),
        _query(
            "_sort",
            "Sort fields, comma-separated, '-' for descending",
            {"type": "string", "pattern": f"^[-+]?{_FIELD}( *, *[-+]?{_FIELD})*$"},
        ),
        _query("_token", "Pagination token from Next-Page"),
        _query("_since", "Objects (and tombstones) changed after this timestamp", _TIMESTAMP_SCHEMA),
        _query("_before", "Objects changed before this timestamp", _TIMESTAMP_SCHEMA),
        _query(
            "_fields", "Fields to return, comma-separated", {"type": "string", "pattern": f"^({_FIELD})?(,{_FIELD})*$"}
        ),
        {
            "name": "filters",
            "in": "query",
            "required": False,
            "style": "form",
            "explode": True,
            "description": "Filters: <field>=value, and has_, min_, max_, lt_, gt_, not_, in_, exclude_, like_, "
            "contains_, contains_any_, eq_ prefixes",
            "schema": {"type": "object", "additionalProperties": {"type": "string"}},
        },
    ]


def _query(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema or {"type": "string"},
    }


def _json_response(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error_responses(*codes: str) -> dict[str, Any]:
    return {code: _json_response("Error", {"$ref": "#/components/schemas/Error"}) for code in codes}


# --- other routes ---------------------------------------------------------------------------------


def _openapi_path(pattern: str) -> str:
    return _PLACEHOLDER.sub(lambda match: "{" + match.group(1) + "}", pattern)


def _path_parameters(path: str) -> list[dict[str, Any]]:
    return [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in re.findall(r"\{([^}]+)\}", path)
    ]


def _id_parameters(path: str, cls: Any, resources: dict[str, Any]) -> list[dict[str, Any]]:
    """The path parameters of a resource's route, with the pattern its ids (and its parents') follow.

    ``{id}`` is the resource's own id; ``{<name>_id}`` the id of the registered resource ``<name>``
    (``bucket_id`` of ``bucket``). An id outside the pattern is answered 400 or 404 by the resource.
    """
    parameters = _path_parameters(path)
    for parameter in parameters:
        name = parameter["name"]
        parent = resources.get(name[: -len("_id")]) if name.endswith("_id") else None
        owner = cls if name == "id" else getattr(parent, "resource_class", None)
        regexp = getattr(owner._generator(), "regexp", None) if hasattr(owner, "_generator") else None
        if regexp:
            parameter["schema"] = {"type": "string", "pattern": regexp}
    return parameters


def _other_routes(registry: Any, prefix: str) -> list[tuple[str, str, list[str]]]:
    """``(route name, pattern relative to the version prefix, methods)`` for each routed view."""
    mapper = registry.queryUtility(IRoutesMapper)
    if mapper is None:
        return []
    methods_by_route: dict[str, set[str]] = {}
    for item in registry.introspector.get_category("views") or []:
        view = item["introspectable"]
        route_name = view.get("route_name")
        if not route_name:
            continue
        methods = view.get("request_methods") or ()
        if isinstance(methods, str):
            methods = (methods,)
        methods_by_route.setdefault(route_name, set()).update(m.lower() for m in methods)
    routes = []
    for route in mapper.get_routes():
        pattern = route.pattern if route.pattern.startswith("/") else "/" + route.pattern
        if not pattern.startswith(prefix + "/") and pattern != prefix:
            continue
        if "*" in pattern:
            continue
        relative = pattern[len(prefix) :] or "/"
        methods = sorted(m for m in methods_by_route.get(route.name, ()) if m in _HTTP_METHODS and m != "options")
        routes.append((route.name, relative, methods))
    return routes


def _security_schemes(settings: Any) -> dict[str, Any]:
    schemes: dict[str, Any] = {}
    for name in settings["multiauth.policies"]:
        if name == "basicauth":
            schemes["basicAuth"] = {"type": "http", "scheme": "basic"}
        else:
            schemes[name] = {"type": "http", "scheme": "bearer", "description": f"The {name!r} policy"}
    return schemes
