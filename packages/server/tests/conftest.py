"""The Kinto server on each backend (memory, SQLite, PostgreSQL), driven through HTTP with WebTest.

PostgreSQL: the tests use their own database, ``kinto_server_test``, on the
server of ``KINTO_TEST_POSTGRESQL_URL`` (created when missing; flushing it never
touches another suite's data). That variable set means those tests must run;
unset, a server at ``127.0.0.1:5432`` is tried and the tests are skipped with
the reason when nothing answers there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import webtest
from kinto.core.authentication import hmac_digest
from kinto.core.database import REGISTRY_KEY
from kinto.core.events import AfterResourceChanged, ResourceChanged
from kinto.core.testing import basic_auth_header

from kinto.server import main

DATABASE = "kinto_server_test"
DEFAULT_SERVER_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
BACKENDS = ("memory", "sqlite", "postgresql")
SECRET = "server-tests-secret"

BASE_SETTINGS = {
    "multiauth.policies": "basicauth",
    "kinto.userid_hmac_secret": SECRET,
    "kinto.experimental_collection_schema_validation": "true",
}


def userid(name: str) -> str:
    """The prefixed user id Basic Auth gives ``name`` (password ``secret``)."""
    return "basicauth:" + hmac_digest(SECRET, f"{name}:secret")


ALICE, BOB, CAROL = (basic_auth_header(name) for name in ("alice", "bob", "carol"))


# --- PostgreSQL ------------------------------------------------------------------------------------


def postgresql_url() -> str:
    """Our own database on the test server (created once), or fail/skip as the module docstring says."""
    from kinto.core.testing.storage import postgresql_test_database

    return postgresql_test_database(DATABASE, default=DEFAULT_SERVER_URL)


def backend_settings(backend: str, folder: Any) -> dict[str, str]:
    """Storage, permission and cache settings for ``backend`` (storage and permission share one database)."""
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


# --- applications ----------------------------------------------------------------------------------


class EventRecorder:
    """Remembers every ``ResourceChanged`` and ``AfterResourceChanged`` delivered."""

    def __init__(self) -> None:
        self.events: list[Any] = []

    def __call__(self, event: Any) -> None:
        self.events.append(event)

    def clear(self) -> None:
        self.events.clear()

    def of(self, cls: type) -> list[Any]:
        return [event for event in self.events if type(event) is cls]

    def summary(self, cls: type = AfterResourceChanged) -> list[tuple[str, str, list[str]]]:
        """``(action, resource_name, sorted ids)`` of each event of ``cls``, in order."""
        return [
            (event.payload["action"], event.payload["resource_name"],
             sorted(change["new"]["id"] for change in event.impacted_objects))
            for event in self.of(cls)
        ]


def build_app(settings: dict[str, Any], recorder: EventRecorder | None = None) -> webtest.TestApp:
    wsgi = main({}, **{**BASE_SETTINGS, **settings})
    registry = wsgi.registry
    if recorder is not None:
        registry.registerHandler(recorder, (ResourceChanged,))
    for kind in ("storage", "permission", "cache"):
        backend = getattr(registry, kind, None)
        if backend is not None:
            backend.initialize_schema()
    return webtest.TestApp(wsgi)


def close_clients(app: webtest.TestApp) -> None:
    for client in app.app.registry.get(REGISTRY_KEY, {}).values():
        registry.registerHandler(recorder, (AfterResourceChanged,))
        client.close()


def flush(app: webtest.TestApp) -> None:
    registry = app.app.registry
    for kind in ("storage", "permission", "cache"):
        backend = getattr(registry, kind, None)
        if backend is not None:
            backend.flush()


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="module")
def recorder() -> EventRecorder:
    return EventRecorder()


@pytest.fixture(scope="module")
def extra_settings() -> dict[str, Any]:
    """Settings a test module adds to every backend's application (override in the module)."""
    return {}


@pytest.fixture(scope="module")
def shared_app(backend: str, recorder: EventRecorder, extra_settings: dict[str, Any],
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[webtest.TestApp]:
    folder = tmp_path_factory.mktemp(f"server-{backend}")
    app = build_app({**backend_settings(backend, folder), **extra_settings}, recorder)
    yield app
    close_clients(app)


@pytest.fixture
def app(shared_app: webtest.TestApp, recorder: EventRecorder) -> Iterator[webtest.TestApp]:
    """The backend's application, emptied, with no event recorded yet."""
    flush(shared_app)
    recorder.clear()
    yield shared_app
    recorder.clear()


@pytest.fixture
def events(app: webtest.TestApp, recorder: EventRecorder) -> EventRecorder:
    return recorder


@pytest.fixture
def registry(app: webtest.TestApp) -> Any:
    return app.app.registry


@pytest.fixture
def put(app: webtest.TestApp) -> Callable[..., dict[str, Any]]:
    """``put(path, data=None, headers=ALICE, permissions=None)`` → the response body (expects 2xx)."""

    def put_object(path: str, data: dict[str, Any] | None = None, headers: dict[str, str] = ALICE,
                   permissions: dict[str, list[str]] | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"data": data or {}}
        if permissions is not None:
            body["permissions"] = permissions
        return app.put_json(f"/v1{path}", body, headers=headers).json

    return put_object


@pytest.fixture
def tree(put: Callable[..., dict[str, Any]]) -> Callable[..., None]:
    """``tree()``: Alice's bucket ``b1`` with collection ``c1`` (record ``r1``) and group ``g1`` (Bob)."""

    def build(owner: dict[str, str] = ALICE) -> None:
        put("/buckets/b1", headers=owner)
        put("/buckets/b1/collections/c1", headers=owner)
        put("/buckets/b1/collections/c1/records/r1", {"title": "one"}, headers=owner)
        put("/buckets/b1/groups/g1", {"members": [userid("bob")]}, headers=owner)

    return build
