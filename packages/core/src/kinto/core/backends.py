"""Loading the storage, cache and permission backends named in the settings, and closing them.

``kinto.<kind>_backend`` names a module exposing ``load_from_config(config)``,
either by its dotted path (``kinto_riak.cache``) or by a short name that an
installed distribution advertises in the ``kinto.<kind>`` entry-point group
(``memory``, ``sqlite``, ``postgresql``, ``riak``...). Every way a backend can
fail to load becomes a ``pyramid.exceptions.ConfigurationError`` whose message
starts with the setting, so start-up stops with a line an operator can act on.
"""

from __future__ import annotations

import importlib
import logging
import re
from importlib import metadata
from types import ModuleType
from typing import TYPE_CHECKING, Any

from pyramid.exceptions import ConfigurationError

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
    "close_backends",
    "contract_for",
    "kind_of",
    "load_backend",
    "mask_url",
    "resolve_backend_module",
]

logger = logging.getLogger(__name__)

#: The kinds of backends: each is a setting ``kinto.<kind>_backend``, a contract (``contract_for``)
#: and the registry attribute holding the application's backend of that kind.
KINDS = ("storage", "permission", "cache")

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
