"""``register()``: routes and views of a resource class.

``@resource.register()`` is a venusian decorator, acted on by
``config.scan()``; ``register_resource(config, cls, ...)`` (or the directive
``config.add_kinto_resource(cls, ...)``) does the same imperatively. Paths are
relative to the version prefix and ``str.format``-ed with ``resource_name``, so
Kinto-style paths such as ``"/{resource_name}s/{{id}}"`` work.

An operator turns one method of one endpoint off with Kinto's setting
``<plural|object>_<resource name>_<method>_enabled = false``
(``kinto.plural_bucket_post_enabled = false``): that method then answers 405,
for every resource registered here, third-party ones included. ``HEAD`` is a
``GET`` without its body, so it is served only while ``GET`` is.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import venusian
from pyramid import httpexceptions
from pyramid.response import Response

from kinto.core import jsontext
from kinto.core.errors import http_error
from kinto.core.resource.bulk import serve_bulk_creates
from kinto.core.resource.context import DYNAMIC, ResourceContext
from kinto.core.settings import PREFIX, as_bool
from kinto.core.storage.generators import Generator

__all__ = ["ResourceInfo", "register", "register_resource", "registered_resources"]

REGISTRY_KEY = "kinto.resources"
DEFAULT_PLURAL_METHODS = ("HEAD", "GET", "POST", "DELETE")
DEFAULT_OBJECT_METHODS = ("HEAD", "GET", "PUT", "PATCH", "DELETE")

_PLURAL_VIEWS = {"GET": "plural_get", "HEAD": "plural_head", "POST": "plural_post", "DELETE": "plural_delete"}
_OBJECT_VIEWS = {"GET": "get", "HEAD": "head", "PUT": "put", "PATCH": "patch", "DELETE": "delete"}


@dataclasses.dataclass(frozen=True)
class ResourceInfo:
    """What the core knows of a registered resource (plugins find the app's resources here).

    ``plural_methods`` and ``object_methods`` are the methods served: those
    declared, less the ones the ``*_enabled`` settings turn off.
    """

    name: str
    resource_class: type
    plural_path: str
    object_path: str
    plural_methods: tuple[str, ...]
    object_methods: tuple[str, ...]

    @property
    def plural_route(self) -> str:
        return f"{self.name}-plural"

    @property
    def object_route(self) -> str:
        return f"{self.name}-object"

    def plural_uri(self, **ids: Any) -> str:
        """The URI of the resource's list for these parent ids, without the version prefix
        (``plural_uri(bucket_id="b")`` of a collection: ``/buckets/b/collections``).
        A missing id is a ``KeyError``."""
        return self.plural_path.format_map(ids)

    def object_uri(self, **ids: Any) -> str:
        """The URI of one object, without the version prefix: its own ``id`` and its parents' ids
        (``object_uri(bucket_id="b", id="c")`` of a collection: ``/buckets/b/collections/c``), as
        permissions name the object and as storage names the parent of its children.
        A missing id is a ``KeyError``."""
        return self.object_path.format_map(ids)


def registered_resources(registry: Any) -> dict[str, ResourceInfo]:
    """The resources registered on this application, by name."""
    return registry.setdefault(REGISTRY_KEY, {})


def register(depth: int = 1, **options: Any) -> Callable[[type], type]:
    """Class decorator: register the resource when the module is scanned."""

    def wrapped(resource_class: type) -> type:
        def callback(context: Any, name: str, ob: type) -> None:
            register_resource(context.config.with_package(info.module), ob, **options)

        info = venusian.attach(resource_class, callback, category="pyramid", depth=depth)
        return resource_class

    return wrapped


def register_resource(
    config: Any,
    resource_class: type,
    name: str | None = None,
    plural_path: str | None = None,
    object_path: str | None = None,
    collection_path: str | None = None,
    record_path: str | None = None,
    plural_methods: tuple[str, ...] | None = None,
    object_methods: tuple[str, ...] | None = None,
    collection_methods: tuple[str, ...] | None = None,
    record_methods: tuple[str, ...] | None = None,
    factory: Callable[..., Any] | None = None,
    **unused: Any,
) -> ResourceInfo:
    """Add the two routes and their views for ``resource_class``; return its ``ResourceInfo``."""
    name = name or resource_class.__dict__.get("name") or resource_class.__name__.lower()
    plural_template = plural_path or collection_path or "/{resource_name}s"
    object_template = object_path or record_path or "/{resource_name}s/{{id}}"
    plural = plural_template.format(resource_name=name)
    obj = object_template.format(resource_name=name)
    settings = config.get_settings()
    plural_declared = _methods(plural_methods, collection_methods, DEFAULT_PLURAL_METHODS)
    object_declared = _methods(object_methods, record_methods, DEFAULT_OBJECT_METHODS)
    info = ResourceInfo(
        name=name,
        resource_class=resource_class,
        plural_path=plural,
        object_path=obj,
        plural_methods=served_methods(settings, "plural", name, plural_declared, _PLURAL_VIEWS),
        object_methods=served_methods(settings, "object", name, object_declared, _OBJECT_VIEWS),
    )
    resource_class.name = name
    resource_class.plural_path = plural
    resource_class.object_path = obj
    _resolve_id_generator(config, resource_class)

    resources = registered_resources(config.registry)
    if name in resources and resources[name].resource_class is not resource_class:
        from pyramid.exceptions import ConfigurationError

        raise ConfigurationError(f"Two resources are registered with the name {name!r}")
    resources[name] = info

    for endpoint, path, route, declared, served in (
        ("plural", plural, info.plural_route, plural_declared, info.plural_methods),
        ("object", obj, info.object_route, object_declared, info.object_methods),
    ):
        if not declared:
            continue
        views = _PLURAL_VIEWS if endpoint == "plural" else _OBJECT_VIEWS
        route_factory = factory or _context_factory(resource_class, endpoint)
        config.add_route(route, path, factory=route_factory)
        allowed = served
        if "GET" in served and "HEAD" not in declared and _enabled(settings, endpoint, name, "HEAD"):
            # Pyramid hands HEAD to GET views: serve it (headers of a GET, no body), never a KeyError.
            allowed = (*served, "HEAD")
        if allowed:
            config.add_view(
                _view(resource_class, {m: views[m] for m in allowed}),
                route_name=route,
                request_method=allowed,
                permission=DYNAMIC,
            )
        # Every other method (switched off ones included) answers 405 naming those served.
        config.add_view(_method_not_allowed(allowed), route_name=route, permission="__no_permission_required__")
    return info


def _methods(
    given: tuple[str, ...] | None, former: tuple[str, ...] | None, default: tuple[str, ...]
) -> tuple[str, ...]:
    """The methods asked for (an empty tuple: no such endpoint), or the default."""
    chosen = given if given is not None else former if former is not None else default
    return tuple(method.upper() for method in chosen)


def served_methods(
    settings: Any, endpoint: str, name: str, declared: tuple[str, ...], views: dict[str, str]
) -> tuple[str, ...]:
    """The methods of ``declared`` that ``endpoint`` serves, given the ``*_enabled`` switches."""
    served = [method for method in declared if method in views and _enabled(settings, endpoint, name, method)]
    if "GET" in declared and "GET" not in served and "HEAD" in served:
        served.remove("HEAD")
    return tuple(served)


def _enabled(settings: Any, endpoint: str, name: str, method: str) -> bool:
    key = f"{endpoint}_{name}_{method.lower()}_enabled"
    return as_bool(settings.get(key, True), PREFIX + key)  # no default to type it: kept as written


def _resolve_id_generator(config: Any, resource_class: type) -> None:
    generator = resource_class.__dict__.get("id_generator")
    if isinstance(generator, Generator):
        return
    if isinstance(generator, type) or callable(generator):
        resource_class.id_generator = generator() if isinstance(generator, type) else generator
        return
    if getattr(resource_class, "id_generator", None) is not None:
        return
    settings = config.get_settings()
    dotted = settings.get(f"{resource_class.name}_id_generator") or settings.get("id_generator")
    if dotted:
        generator_class = config.maybe_dotted(dotted)
        resource_class.id_generator = generator_class() if isinstance(generator_class, type) else generator_class


def _context_factory(resource_class: type, endpoint: str) -> Callable[[Any], ResourceContext]:
    def factory(request: Any) -> ResourceContext:
        return ResourceContext(request, resource_class, endpoint)

    return factory


def _view(resource_class: type, attributes: dict[str, str]) -> Callable[[Any, Any], Any]:
    def view(context: Any, request: Any) -> Any:
        resource = resource_class(request, context=context)
        if attributes[request.method] == "plural_post" and serve_bulk_creates(request, resource):
            result: Any = {}
        else:
            result = getattr(resource, attributes[request.method])()
        if isinstance(result, Response):
            return result
        response = request.response
        response.content_type = "application/json"
        response.charset = "utf-8"
        if request.method == "HEAD":
            response.body = b""
        else:
            response.body = jsontext.compact(result)
        return response

    view.__name__ = f"{resource_class.__name__}_view"
    return view


def _method_not_allowed(allowed: tuple[str, ...]) -> Callable[[Any, Any], Any]:
    def view(context: Any, request: Any) -> Any:
        error = http_error(httpexceptions.HTTPMethodNotAllowed(), message="Method not allowed on this endpoint")
        error.headers["Allow"] = ", ".join(allowed)
        raise error

    return view
