"""A cache backend module for the tests: the core's memory cache, on a clock and instance the test chooses.

``kinto.cache_backend`` naming this module with ``fxa_tests.clock`` (a callable) makes TTLs
testable without sleeping; ``fxa_tests.cache`` hands the same instance to several applications.
"""

from __future__ import annotations

from typing import Any

from kinto.core.cache.memory import Cache


def load_from_config(config: Any) -> Cache:
    settings = config.get_settings()
    shared = settings.get("fxa_tests.cache")
    if shared is not None:
        return shared
    return Cache(clock=settings["fxa_tests.clock"])
