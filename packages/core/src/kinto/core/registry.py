"""What an application's configuration collects: stored one way, registered by directives, read by accessors.

**One store.** Everything the core and its plugins register lives in the registry's mapping (Pyramid's
``Registry`` is a dict for this) under a namespaced key: ``registry["kinto.core.heartbeats"]``. The
accessors below (``api_capabilities(registry)``, ``heartbeats(registry)``, ``migrations(registry)``,
...) read it back; nothing else knows these keys. Other modules keep their state the same way, under
their own key and behind their own accessor (``registered_resources``, ``registry_clients``). Services
that Kinto's plugins register by interface (``IMetricsService``) stay Pyramid utilities, as Kinto
defines them.

**Directives are Pyramid actions.** ``config.add_api_capability``, ``add_heartbeat``,
``add_migration`` and ``add_backend`` register an action whose discriminator is the name: two
includes registering the same name fail at commit with Pyramid's ``ConfigurationConflictError``,
which names both source lines; the configuration that includes a plugin overrides what the plugin
registered, as does a registration made after ``config.commit()``. Registrations take effect when
the configuration is committed (``kinto.core.initialize`` commits). Redacted query parameters
are a union, not names that can clash: that action has no discriminator.

**Kinto's attribute names.** Plugins written for Kinto read ``registry.api_capabilities``,
``registry.heartbeats`` (and write ``registry.heartbeats["name"] = fn``), ``registry.route_prefix``,
``registry.metrics``, the backends ``registry.storage``, ``.cache``, ``.permission``, and, following
the documented indexing example, ``registry.indexer``. ``expose_kinto_names(registry)`` (run by
``kinto.core.includeme``) gives the registry those names as properties over the same store: the
backends' are assignable (the indexing example assigns ``registry.indexer``), the others read-only.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from kinto.core.backends import KINDS

__all__ = [
    "add_api_capability",
    "add_backend",
    "add_heartbeat",
    "add_migration",
    "add_redacted_query_parameters",
    "api_capabilities",
    "expose_kinto_names",
    "heartbeats",
    "loaded_backends",
    "log_renderer",
    "migrations",
    "redacted_query_parameters",
    "route_prefix",
    "set_log_renderer",
    "set_route_prefix",
]

API_CAPABILITIES = "kinto.core.api_capabilities"
HEARTBEATS = "kinto.core.heartbeats"
MIGRATIONS = "kinto.core.migrations"
REDACTED_QUERY_PARAMETERS = "kinto.core.redacted_query_parameters"
BACKENDS = "kinto.core.backends"
ROUTE_PREFIX = "kinto.core.route_prefix"
LOG_RENDERER = "kinto.core.log_renderer"

#: Backend kinds readable (and assignable) as registry attributes, Kinto's names.
BACKEND_ATTRIBUTES = (*KINDS, "indexer")


# --- accessors ----------------------------------------------------------------------------------


def api_capabilities(registry: Any) -> dict[str, dict[str, Any]]:
    """The capabilities shown at ``GET /v1/``, by name."""
    return registry.setdefault(API_CAPABILITIES, {})


def heartbeats(registry: Any) -> dict[str, Callable[[Any], bool]]:
    """The checks run by ``/v1/__heartbeat__``, by name."""
    return registry.setdefault(HEARTBEATS, {})


def migrations(registry: Any) -> dict[str, Callable[..., None]]:
    """The plugins' schema steps run by ``kinto migrate`` (in registration order), by name."""
    return registry.setdefault(MIGRATIONS, {})


def redacted_query_parameters(registry: Any) -> set[str]:
    """Query parameters (lower case) whose values the request log leaves out."""
    return registry.setdefault(REDACTED_QUERY_PARAMETERS, set())


def loaded_backends(registry: Any) -> dict[str, Any]:
    """The backend instances by kind (``storage``, ``cache``, ``permission``, a plugin's ``indexer``)."""
    return registry.setdefault(BACKENDS, {})


def route_prefix(registry: Any) -> str:
    """The prefix of the API's routes (``v1``); empty before ``kinto.core`` is included."""
    return registry.get(ROUTE_PREFIX, "")


def set_route_prefix(registry: Any, prefix: str) -> None:
    registry[ROUTE_PREFIX] = prefix


def log_renderer(registry: Any) -> Any:
    """The renderer ``kinto.logging_renderer`` built (wrapped as ``kinto.core.logs.setup_logging`` returns it)."""
    return registry.get(LOG_RENDERER)


def set_log_renderer(registry: Any, renderer: Any) -> None:
    registry[LOG_RENDERER] = renderer


# --- directives ---------------------------------------------------------------------------------


def add_api_capability(config: Any, identifier: str, description: str = "", url: str = "", **kw: Any) -> None:
    """Expose an optional feature at ``GET /v1/`` (every argument shown as given)."""
    capability = {"description": description, "url": url, **kw}

    def register() -> None:
        api_capabilities(config.registry)[identifier] = capability

    config.action(("kinto.api_capability", identifier), register)


def add_heartbeat(config: Any, name: str, fn: Callable[[Any], bool]) -> None:
    """Register a health check shown at ``/v1/__heartbeat__``; ``fn(request) -> bool``."""

    def register() -> None:
        heartbeats(config.registry)[name] = fn

    config.action(("kinto.heartbeat", name), register)


def add_migration(config: Any, name: Any, fn: Callable[..., None] | None = None) -> None:
    """Register a schema step run by ``kinto migrate``: ``fn(registry, dry_run=False)``, idempotent.

    ``config.add_migration(migration)``, Kinto's form with a migration object, is accepted
    too (see ``kinto.core.migrations``).
    """
    if fn is None:
        from kinto.core.migrations import as_migration_step

        name, fn = as_migration_step(name)

    def register() -> None:
        migrations(config.registry)[name] = fn

    config.action(("kinto.migration", name), register)


def add_redacted_query_parameters(config: Any, *names: str) -> None:
    """Keep the values of the query parameters ``names`` out of the request log, on every path.

    For secrets a flow has to carry in URLs (OAuth's ``code`` and ``state``):
    every path, because redirects (trailing slash, version prefix) log them too.
    """
    lowered = {name.lower() for name in names}

    def register() -> None:
        redacted_query_parameters(config.registry).update(lowered)

    config.action(None, register)


def add_backend(config: Any, kind: str, backend: Any) -> None:
    """Register ``backend`` as the application's ``kind`` backend (a plugin's ``indexer``, say).

    It is then ``loaded_backends(registry)[kind]``, and ``registry.<kind>`` for the kinds of
    ``BACKEND_ATTRIBUTES``.
    """

    def register() -> None:
        loaded_backends(config.registry)[kind] = backend

    config.action(("kinto.backend", kind), register)


# --- Kinto's attribute names --------------------------------------------------------------------


def _backend_attribute(kind: str) -> property:
    def get(registry: Any) -> Any:
        try:
            return loaded_backends(registry)[kind]
        except KeyError:
            raise AttributeError(kind) from None

    def set_(registry: Any, backend: Any) -> None:
        loaded_backends(registry)[kind] = backend

    def delete(registry: Any) -> None:
        loaded_backends(registry).pop(kind, None)

    return property(get, set_, delete, doc=f"The {kind} backend (``loaded_backends(registry)[{kind!r}]``).")


def _metrics(registry: Any) -> Any:
    from kinto.core.metrics import get_metrics_service

    return get_metrics_service(registry)


_KINTO_NAMES: dict[str, property] = {
    "api_capabilities": property(api_capabilities),
    "heartbeats": property(heartbeats),
    "route_prefix": property(route_prefix),
    "metrics": property(_metrics),
    **{kind: _backend_attribute(kind) for kind in BACKEND_ATTRIBUTES},
}


@functools.cache
def _with_kinto_names(registry_class: type) -> type:
    attributes = {"__module__": registry_class.__module__, "exposes_kinto_names": True, **_KINTO_NAMES}
    return type(registry_class.__name__, (registry_class,), attributes)


def expose_kinto_names(registry: Any) -> None:
    """Give ``registry`` Kinto's attribute names, as properties over the one store (see the module docstring).

    The registry's class becomes a subclass of its own adding only those properties.
    """
    if not getattr(registry, "exposes_kinto_names", False):
        registry.__class__ = _with_kinto_names(type(registry))
