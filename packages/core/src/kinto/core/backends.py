"""The storage, cache and permission backends: loading those the settings name, setting them up on
the application, migrating their schemas, and closing them.

``kinto.<kind>_backend`` names a module exposing ``load_from_config(config)``,
either by its dotted path (``kinto_riak.cache``) or by a short name that an
installed distribution advertises in the ``kinto.<kind>`` entry-point group
(``memory``, ``sqlite``, ``postgresql``, ``riak``...). Every way a backend can
fail to load becomes a ``pyramid.exceptions.ConfigurationError`` whose message
starts with the setting, so start-up stops with a line an operator can act on.

``setup_backends(config)`` (run by ``kinto.core.initialize``) puts each loaded backend on the
registry with its heartbeat; ``migrate(registry)`` creates or upgrades their schemas, then runs the
plugins' migrations (``kinto migrate``, or ``kinto.migrate_on_startup``).
"""

from __future__ import annotations

import importlib
import logging
import re
from collections.abc import Callable
from importlib import metadata
from types import ModuleType
from typing import TYPE_CHECKING, Any

from pyramid.exceptions import ConfigurationError

from kinto.core import metrics
from kinto.core.settings import read_setting
from kinto.core.storage.exceptions import BackendError

if TYPE_CHECKING:
    from pyramid.config import Configurator
    from pyramid.registry import Registry

    from kinto.core.cache import CacheBase
    from kinto.core.permission import PermissionBase
    from kinto.core.storage import StorageBase

__all__ = [
    "KINDS",
    "MEMORY_BACKENDS",
    "close_backends",
    "contract_for",
    "kind_of",
    "load_backend",
    "mask_url",
    "migrate",
    "resolve_backend_module",
    "setup_backends",
]

logger = logging.getLogger(__name__)

#: The kinds of backends: each is a setting ``kinto.<kind>_backend``, a contract (``contract_for``)
#: and the registry attribute holding the application's backend of that kind.
KINDS = ("storage", "permission", "cache")
#: What an empty ``kinto.<kind>_backend`` means (with a warning that nothing persists).
MEMORY_BACKENDS = {kind: f"kinto.core.{kind}.memory" for kind in KINDS}

_URL_PASSWORD = re.compile(r"(?P<head>[a-zA-Z][a-zA-Z0-9+.-]*://[^:/@]*:)(?P<password>[^@/]*)@")


def mask_url(url: str) -> str:
    """Return ``url`` with its password (if any) replaced by ``***``."""
    return _URL_PASSWORD.sub(lambda match: f"{match['head']}***@", url)


def contract_for(kind: str) -> type:
    """Return the abstract base class every backend of ``kind`` must subclass.

    Raises ``ValueError`` for a kind that is not one of ``KINDS``.
    """
    if kind == "cache":
        from kinto.core.cache import CacheBase

        return CacheBase
    if kind == "permission":
        from kinto.core.permission import PermissionBase

        return PermissionBase
    if kind == "storage":
        from kinto.core.storage import StorageBase

        return StorageBase
    raise ValueError(f"unknown backend kind {kind!r}; expected one of {', '.join(KINDS)}")


def kind_of(backend: object) -> str | None:
    """Return the kind (``"storage"``, ``"cache"``, ``"permission"``) whose
    contract ``backend`` implements, or ``None`` if it implements none."""
    for kind in KINDS:
        try:
            base = contract_for(kind)
        except ImportError:  # a contract not available in this installation
            continue
        if isinstance(backend, base):
            return kind
    return None


def _entry_point(name: str, kind: str) -> metadata.EntryPoint | None:
    for entry_point in metadata.entry_points(group=f"kinto.{kind}"):
        if entry_point.name == name:
            return entry_point
    return None


def resolve_backend_module(name: str, kind: str) -> ModuleType:
    """Import the backend module called ``name`` for ``kind``.

    ``name`` is a short name registered in the ``kinto.<kind>`` entry-point
    group, or a dotted module path. Raises ``ImportError`` (with a message
    saying which) when neither resolves; errors raised while importing the
    module itself propagate unchanged.
    """
    entry_point = _entry_point(name, kind) if "." not in name else None
    if entry_point is not None:
        loaded = entry_point.load()
        if isinstance(loaded, ModuleType):
            return loaded
        return importlib.import_module(entry_point.module)
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as error:
        if error.name is not None and not name.startswith(error.name) and not error.name.startswith(name):
            raise  # the module exists but one of its own imports is missing
        raise ImportError(f"no module named {name!r} and no {kind} backend registered under that name") from error


def load_backend(config: Configurator, kind: str) -> StorageBase | CacheBase | PermissionBase | None:
    """Build the backend of ``kind`` that the settings name, or ``None`` when
    ``<kind>_backend`` is empty.

    Raises ``ConfigurationError`` naming the setting when the module cannot be
    imported, has no ``load_from_config``, raises while loading (a
    ``BackendError`` is reported with the backend URL, password masked), or
    returns an object that does not subclass the kind's contract.
    """
    base = contract_for(kind)
    settings = config.get_settings()
    name = read_setting(settings, f"{kind}_backend")
    if not name:
        return None
    label = f"kinto.{kind}_backend = {getattr(name, '__name__', name)}"
    module = _import(name, kind, label)
    loader = getattr(module, "load_from_config", None)
    if not callable(loader):
        raise ConfigurationError(f"{label}: module has no load_from_config(config)")
    try:
        backend = loader(config)
    except BackendError as error:
        url = read_setting(settings, f"{kind}_url", "")
        where = f" at {mask_url(str(url))}" if url else ""
        raise ConfigurationError(f"{label}: cannot reach the {kind} backend{where}: {error}") from error
    except Exception as error:
        raise ConfigurationError(f"{label}: load_from_config(config) raised {type(error).__name__}: {error}") from error
    if not isinstance(backend, base):
        raise ConfigurationError(
            f"{label}: load_from_config(config) returned {type(backend).__qualname__}, "
            f"which does not implement {base.__module__}.{base.__qualname__}"
        )
    return backend


def _import(name: Any, kind: str, label: str) -> ModuleType:
    if isinstance(name, ModuleType):
        return name
    if not isinstance(name, str):
        raise ConfigurationError(f"{label}: expected a module name, got {type(name).__name__}")
    try:
        return resolve_backend_module(name.strip(), kind)
    except ImportError as error:
        raise ConfigurationError(f"{label}: cannot import module ({error})") from error
    except Exception as error:
        raise ConfigurationError(f"{label}: importing the module raised {type(error).__name__}: {error}") from error


def close_backends(registry: Registry) -> None:
    """Close the connections the backends of the application of ``registry`` hold.

    They are in the database clients the backends share through the registry
    (:func:`kinto.core.database.registry_clients`); a client reopens its
    connections if used again. Call it when an application is done with, or
    before a server forks its workers. A client that fails to close is logged,
    and the others are still closed.
    """
    from kinto.core.database import REGISTRY_KEY

    for client in list(registry.get(REGISTRY_KEY, {}).values()):
        close = getattr(client, "close", None)
        if not callable(close):
            continue
        try:
            close()
        except Exception:
            logger.warning("Could not close %r", client, exc_info=True)


def setup_backends(config: Configurator) -> None:
    """Load the storage, permission and cache backends the settings name
    (the memory ones when a setting is empty, with a warning) onto the
    registry, each with its heartbeat.

    A backend that cannot load fails start-up with a ``ConfigurationError``
    naming its ``kinto.<kind>_backend`` setting (see ``load_backend``).
    """
    # Not at the top: the registry's accessors know the kinds from this module.
    from kinto.core.registry import loaded_backends

    settings = config.get_settings()
    defaulted = []
    for kind in KINDS:
        if not settings[f"{kind}_backend"]:
            settings[f"{kind}_backend"] = settings[f"kinto.{kind}_backend"] = MEMORY_BACKENDS[kind]
            defaulted.append(kind)
        backend = load_backend(config, kind)
        # Now, not at commit: plugins included next read ``registry.storage`` in their includeme.
        loaded_backends(config.registry)[kind] = backend
        config.add_heartbeat(kind, _backend_heartbeat(backend))
    if defaulted:
        logger.warning(
            "No %s backend configured: using memory backends, nothing will persist",
            "/".join(defaulted),
        )


def measure_backends(event: Any) -> None:
    """``ApplicationCreated`` subscriber: once every include ran (so a metrics plugin has registered
    its service), time the backends' methods and count cache hits and misses, as Kinto does; nothing
    without a service."""
    registry = event.app.registry
    service = metrics.get_metrics_service(registry)
    if not metrics.is_measuring(service):
        return
    for kind in KINDS:
        backend = getattr(registry, kind, None)
        if backend is not None:
            metrics.watch_execution_time(service, backend, prefix="backend")
    cache = getattr(registry, "cache", None)
    if cache is not None and callable(getattr(cache, "set_metrics_backend", None)):
        cache.set_metrics_backend(service)


def _backend_heartbeat(backend: Any) -> Callable[[Any], bool]:
    from kinto.core.views.heartbeat import Unhealthy

    def check(request: Any) -> bool:
        if not backend.heartbeat():
            return False
        # A backend written for Kinto has no schema check.
        problem = getattr(backend, "schema_mismatch", lambda: None)()
        if problem:
            raise Unhealthy(problem)
        return True

    return check


def migrate(registry: Registry, dry_run: bool = False) -> list[str]:
    """Create or upgrade every backend's schema, then run the plugins' migrations; return what ran."""
    from kinto.core.registry import migrations

    done = []
    for kind in KINDS:
        backend = getattr(registry, kind, None)
        if backend is not None:
            backend.initialize_schema(dry_run=dry_run)
            done.append(kind)
    for name, fn in migrations(registry).items():
        fn(registry, dry_run=dry_run)
        done.append(name)
    return done


def migrate_on_startup(event: Any) -> None:
    """``ApplicationCreated`` subscriber for ``kinto.migrate_on_startup``: migrate once every
    include is configured."""
    done = migrate(event.app.registry)
    logger.info("Migrated on start-up: %s", ", ".join(done) or "nothing")
