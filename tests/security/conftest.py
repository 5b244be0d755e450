"""Security regression tests: each module closes one hole an attacker with an account could use.

The modules are named after the item of the security issue they cover
(``test_item01_schema_refs.py``...). Every test drives the public interface:
the Kinto server's WSGI application through WebTest (the HTTP semantics a
client sees), a live ``kinto start`` process where serving matters, or the
CLI. ``nox -s security`` runs them with a schemathesis pass over ``/v1/__api__``.

Fixtures:

* ``backend``: ``memory``, ``sqlite`` and ``postgresql`` (the latter on this
  run's database, ``kinto_security_test_<run id>``, mandatory when
  ``KINTO_TEST_POSTGRESQL_URL`` is set; see :mod:`kinto.core.testing.postgresql`);
* ``make_app(settings=None, backend=None)``: a server application (flushed
  backends), closed at the end of the test;
* ``app``: ``make_app()`` on the parametrised backend;
* ``put(app, path, data=None, headers=ALICE, permissions=None)``: a PUT expected to succeed;
* ``ALICE``, ``BOB``, ``CAROL`` headers and ``userid(name)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import webtest

from kinto.core.authentication import hmac_digest
from kinto.core.backends import close_backends
from kinto.core.testing import basic_auth_header
from kinto.server import main

DATABASE = "kinto_security_test"
SECRET = "security-tests-secret"
BACKENDS = ("memory", "sqlite", "postgresql")

BASE_SETTINGS = {
    "multiauth.policies": "basicauth",
    "kinto.userid_hmac_secret": SECRET,
    "kinto.experimental_collection_schema_validation": "true",
}

ALICE, BOB, CAROL = (basic_auth_header(name) for name in ("alice", "bob", "carol"))


def userid(name: str, password: str = "secret") -> str:
    """The prefixed user id Basic Auth gives ``name:password``: Kinto's derivation, kept for compatibility."""
    return "basicauth:" + hmac_digest(SECRET, f"{name}:{password}")


def postgresql_url() -> str:
    from kinto.core.testing.postgresql import postgresql_test_database

    return postgresql_test_database(DATABASE)


def backend_settings(backend: str, folder: Any) -> dict[str, str]:
    """Storage, permission and cache settings for ``backend``."""
    if backend == "memory":
        return {f"kinto.{kind}_backend": f"kinto.core.{kind}.memory" for kind in ("storage", "permission", "cache")}
    if backend == "sqlite":
        url = f"sqlite:///{folder}/kinto.sqlite"
        cache_url = f"sqlite:///{folder}/cache.sqlite"
    else:
        url = cache_url = postgresql_url()
    return {
        "kinto.storage_backend": f"kinto.core.storage.{backend}",
        "kinto.storage_url": url,
        "kinto.permission_backend": f"kinto.core.permission.{backend}",
        "kinto.permission_url": url,
        "kinto.cache_backend": f"kinto.core.cache.{backend}",
        "kinto.cache_url": cache_url,
    }


def build_app(settings: dict[str, Any]) -> webtest.TestApp:
    """A server application on ``settings`` (over the base settings), its backends created and emptied."""
    wsgi = main({}, **{**BASE_SETTINGS, **settings})
    for kind in ("storage", "permission", "cache"):
        backend = getattr(wsgi.registry, kind, None)
        if backend is not None:
            backend.initialize_schema()
            backend.flush()
    return webtest.TestApp(wsgi)


def close_app(app: webtest.TestApp) -> None:
    close_backends(app.app.registry)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def make_app(backend: str, tmp_path: Any) -> Iterator[Callable[..., webtest.TestApp]]:
    """``make_app(settings=None, backend=None)``: an application on the test's backend (or another)."""
    built: list[webtest.TestApp] = []

    def factory(settings: dict[str, Any] | None = None, backend_name: str | None = None) -> webtest.TestApp:
        folder = tmp_path / f"app{len(built)}"
        folder.mkdir()
        app = build_app({**backend_settings(backend_name or backend, folder), **(settings or {})})
        built.append(app)
        return app

    yield factory
    for app in built:
        close_app(app)


@pytest.fixture
def app(make_app: Callable[..., webtest.TestApp]) -> webtest.TestApp:
    return make_app()


@pytest.fixture
def put() -> Callable[..., dict[str, Any]]:
    """``put(app, path, data=None, headers=ALICE, permissions=None)`` → the response body (expects 2xx)."""

    def put_object(
        app: webtest.TestApp,
        path: str,
        data: dict[str, Any] | None = None,
        headers: dict[str, str] = ALICE,
        permissions: dict[str, list[str]] | None = None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"data": data or {}}
        if permissions is not None:
            body["permissions"] = permissions
        return app.put_json(f"/v1{path}", body, headers=headers).json

    return put_object


def assert_error(response: Any, status: int, errno: int | None = None) -> dict[str, Any]:
    """``response`` is Kinto's JSON error with ``status`` (and ``errno``); returns the body."""
    assert response.status_code == status, response.text[:500]
    body = response.json
    assert {"code", "errno", "error", "message"} <= set(body)
    assert body["code"] == status
    if errno is not None:
        assert body["errno"] == errno, body
    return body
