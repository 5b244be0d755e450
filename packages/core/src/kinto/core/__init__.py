"""kinto.core: a thin core for REST microservices on Pyramid and Cornice.

The public surface: ``initialize(config, version)``, ``load_default_settings``,
``includeme``, ``Service``; the contracts live in ``kinto.core.cache``,
``kinto.core.storage``, ``kinto.core.permission`` and ``kinto.core.logs``.
``logger`` is the ``kinto.core`` logger plugins written for Kinto log to.
"""

import logging

from kinto.core.initialization import includeme, initialize, load_default_settings
from kinto.core.service import Service
from kinto.core.settings import DEFAULT_SETTINGS

logger = logging.getLogger(__name__)

__all__ = ["DEFAULT_SETTINGS", "Service", "includeme", "initialize", "load_default_settings", "logger"]
