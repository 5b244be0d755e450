"""kinto.core: a thin core for REST microservices on Pyramid and Cornice.

The public surface: ``initialize(config, version)``, ``load_default_settings``,
``includeme``, ``Service``; the contracts live in ``kinto.core.cache``,
``kinto.core.storage``, ``kinto.core.permission`` and ``kinto.core.logs``.
``logger`` is the ``kinto.core`` logger plugins written for Kinto log to;
``get_user_info(request)`` is what the root says of the caller (Kinto's name, see
``kinto.core.views.hello``). What the directives register is read back with
``api_capabilities(registry)``, ``heartbeats(registry)`` and ``loaded_backends(registry)``
(``kinto.core.registry`` has these and the others: ``migrations`` is not re-exported here, as
``kinto.core.migrations`` is Kinto's module of plugin migration objects).
"""

import logging

from kinto.core.initialization import includeme, initialize, load_default_settings
from kinto.core.registry import api_capabilities, heartbeats, loaded_backends
from kinto.core.service import Service
from kinto.core.settings import DEFAULT_SETTINGS
from kinto.core.views.hello import get_user_info

logger = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_SETTINGS",
    "Service",
    "api_capabilities",
    "get_user_info",
    "heartbeats",
    "includeme",
    "initialize",
    "load_default_settings",
    "loaded_backends",
    "logger",
]
