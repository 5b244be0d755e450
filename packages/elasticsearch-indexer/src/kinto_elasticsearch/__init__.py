"""kinto_elasticsearch: index kinto.core resources and search them, showing each caller only what it may read.

Include it (``kinto.includes = kinto_elasticsearch``); ``kinto.indexing_backend``
picks the indexer (``kinto_elasticsearch.elasticsearch`` by default, or
``kinto_elasticsearch.embedded`` with no server). Records are indexed through
the core's ``AfterResourceChanged`` events (:mod:`kinto_elasticsearch.listener`),
searched through ``POST /search/<collection>/`` and, on the Kinto server,
``/buckets/<bid>/collections/<cid>/search`` (:mod:`kinto_elasticsearch.views`).
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import kinto.core
from kinto.core.backends import resolve_backend_module
from kinto.core.events import AfterResourceChanged
from kinto.core.registry import loaded_backends, route_prefix
from pyramid.config import Configurator
from pyramid.events import ApplicationCreated
from pyramid.exceptions import ConfigurationError

from kinto_elasticsearch.indexer import IndexerBase
from kinto_elasticsearch.listener import IndexingListener
from kinto_elasticsearch.resources import server_records
from kinto_elasticsearch.settings import DEFAULT_SETTINGS

__all__ = ["DEFAULT_BACKEND", "DEFAULT_SETTINGS", "get_indexer", "includeme"]

DEFAULT_BACKEND = DEFAULT_SETTINGS["indexing_backend"]
CAPABILITY_URL = "https://github.com/Kinto/kinto-elasticsearch"


def get_indexer(registry: Any) -> IndexerBase:
    """The application's indexer: the one this plugin registers, or what the documented example
    assigns to ``registry.indexer`` (the same store, see ``kinto.core.registry``)."""
    return loaded_backends(registry)["indexer"]


def _backend_module(name: str) -> ModuleType:
    """A dotted module, or a short name of the ``kinto.indexing`` entry-point group."""
    try:
        module = resolve_backend_module(name, "indexing")
    except ImportError as error:
        raise ConfigurationError(f"Setting 'kinto.indexing_backend = {name}': cannot import it ({error})") from error
    if not hasattr(module, "load_from_config"):
        raise ConfigurationError(f"Setting 'kinto.indexing_backend = {name}': no load_from_config(config) found")
    return module


def includeme(config: Any) -> None:
    """Set up indexing and search: the indexer, the event subscriber, the views, capability and heartbeat."""
    kinto.core.load_default_settings(config, DEFAULT_SETTINGS)
    indexer = _backend_module(config.get_settings()["indexing_backend"])
    config.add_backend("indexer", indexer.load_from_config(config))

    config.add_subscriber(IndexingListener(get_indexer), AfterResourceChanged)
    config.add_api_capability(
        "search",
        description="Search records with the Elasticsearch query DSL, among those the caller may read.",
        url=CAPABILITY_URL,
    )
    config.add_heartbeat("indexer", lambda request: get_indexer(request.registry).heartbeat())
    config.add_migration(
        "kinto_elasticsearch", lambda registry, dry_run=False: get_indexer(registry).initialize_schema(dry_run=dry_run)
    )
    config.scan("kinto_elasticsearch.views")
    if server_records(config.registry) is not None:
        _add_server_search(config)
    else:
        # The Kinto server registers its resources after kinto.includes ran: look again once the
        # application is built.
        config.add_subscriber(_add_server_search_late, ApplicationCreated)


def _add_server_search(config: Any) -> None:
    from kinto_elasticsearch.views import collection_search_service

    config.add_cornice_service(collection_search_service())


def _add_server_search_late(event: Any) -> None:
    registry = event.app.registry
    if server_records(registry) is None:
        return
    config = Configurator(registry=registry, route_prefix=route_prefix(registry))
    _add_server_search(config)
    config.commit()
