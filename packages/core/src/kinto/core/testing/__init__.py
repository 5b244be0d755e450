"""Testing helpers shipped with kinto.core, for the core itself and for plugin authors.

* ``make_app(settings, includes=())`` builds a kinto.core application and wraps it
  in WebTest's ``TestApp`` (``kinto-core[testing]`` brings WebTest and pytest), with
  ``TEST_SECRET`` as ``userid_hmac_secret`` unless the settings give one
  (applications refuse to start without a secret);
* ``basic_auth_header(user, password)`` for authenticated requests;
* ``kinto.core.testing.standin.WSGIStandIn``: a remote HTTP service a plugin talks to
  (an OAuth server...), served on 127.0.0.1 with hit counts and injected faults;
* the contract suites: ``kinto.core.testing.cache.CacheContract``,
  ``.storage.StorageContract``, ``.permission.PermissionContract``,
  ``.renderer.RendererContract``; the pytest plugin ``kinto.core.testing.plugin``
  and the ``kinto-conformance`` command run them against any backend.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable, Mapping
from typing import Any

__all__ = ["TEST_SECRET", "basic_auth_header", "make_app", "make_wsgi_app"]

#: The ``userid_hmac_secret`` of applications made here when the settings give none.
TEST_SECRET = "kinto.core.testing secret, for tests only"

#: The modules whose asserts pytest should rewrite: the contract suites live in
#: the package, not in test files, and a plugin author running them deserves
#: pytest's detailed assertion messages.
_SUITE_MODULES = (
    "kinto.core.testing.cache",
    "kinto.core.testing.permission",
    "kinto.core.testing.plugin",
    "kinto.core.testing.renderer",
    "kinto.core.testing.storage",
)

try:
    import pytest
except ImportError:  # make_app and friends work without pytest
    pass
else:
    # Outside a pytest run this only records the names; it must run before the suites are imported.
    pytest.register_assert_rewrite(*_SUITE_MODULES)


def make_wsgi_app(
    settings: Mapping[str, Any] | None = None,
    includes: Iterable[str | Callable[[Any], None]] = (),
    version: str = "0.0.1",
    project_name: str = "testapp",
) -> Any:
    """A WSGI application set up with ``kinto.core.initialize`` and ``includes``."""
    from pyramid.config import Configurator

    import kinto.core

    settings = dict(settings or {})
    if "userid_hmac_secret" not in settings and "kinto.userid_hmac_secret" not in settings:
        settings["userid_hmac_secret"] = TEST_SECRET
    config = Configurator(settings=settings)
    kinto.core.initialize(config, version, project_name=project_name)
    for include in includes:
        config.include(include)
    return config.make_wsgi_app()


def make_app(
    settings: Mapping[str, Any] | None = None,
    includes: Iterable[str | Callable[[Any], None]] = (),
    **kwargs: Any,
) -> Any:
    """``webtest.TestApp`` around ``make_wsgi_app(settings, includes)``."""
    import webtest

    return webtest.TestApp(make_wsgi_app(settings, includes, **kwargs))


def basic_auth_header(user: str = "alice", password: str = "secret") -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    return {"Authorization": f"Basic {token}"}
