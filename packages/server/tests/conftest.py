"""The Kinto server on each backend (memory, SQLite, PostgreSQL), driven through HTTP with WebTest.

PostgreSQL: the tests use this run's database, ``kinto_server_test_<run id>``, on the
server of ``KINTO_TEST_POSTGRESQL_URL`` (see :mod:`kinto.core.testing.postgresql`;
flushing it never touches another suite's or another run's data). That variable set means those tests must run;
unset, a server at ``127.0.0.1:5432`` is tried and the tests are skipped with
the reason when nothing answers there.

Side by side: with ``KINTO_TEST_LIVE_URL`` set (e.g. ``http://127.0.0.1:8899``),
the HTTP tests run against that live server instead of in-process applications
(``nox -s side-by-side`` starts Kinto 26.5.0 and our ``kinto start`` with the
same settings, ``BASE_SETTINGS`` plus the flush endpoint, and compares). Each test is then emptied
with ``POST /__flush__``; tests that need the application in process (its
registry, its events, settings of their own) are skipped there, saying why.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import webtest
from kinto.core.authentication import hmac_digest
from kinto.core.backends import close_backends
from kinto.core.events import AfterResourceChanged, ResourceChanged
from kinto.core.testing import basic_auth_header

from kinto.server import main
from kinto.server.indexes import wait_for_index_builds

DATABASE = "kinto_server_test"
#: A live server to test instead of in-process applications (see the module docstring).
LIVE_URL = os.environ.get("KINTO_TEST_LIVE_URL", "").rstrip("/")
#: The settings the live server runs with (JSON): a module whose extra settings it holds runs there too.
LIVE_SETTINGS: dict[str, str] = json.loads(os.environ.get("KINTO_TEST_LIVE_SETTINGS") or "{}")
BACKENDS = ("live",) if LIVE_URL else ("memory", "sqlite", "postgresql")
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
    """This run's database on the test server (created once), or fail/skip as the module docstring says."""
    from kinto.core.testing.postgresql import postgresql_test_database

    return postgresql_test_database(DATABASE)


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
            (
                event.payload["action"],
                event.payload["resource_name"],
                sorted(change["new"]["id"] for change in event.impacted_objects),
            )
            for event in self.of(cls)
        ]


def build_app(settings: dict[str, Any], recorder: EventRecorder | None = None) -> webtest.TestApp:
    wsgi = main({}, **{**BASE_SETTINGS, **settings})
    registry = wsgi.registry
    if recorder is not None:
        registry.registerHandler(recorder, (ResourceChanged,))
        registry.registerHandler(recorder, (AfterResourceChanged,))
    for kind in ("storage", "permission", "cache"):
        backend = getattr(registry, kind, None)
        if backend is not None:
            backend.initialize_schema()
    return webtest.TestApp(wsgi)


#: Hop-by-hop headers: between the forwarder and the live server only.
HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade"})


def forward_to(url: str) -> Callable[..., Any]:
    """A WSGI application sending each request to the live server at ``url`` as is, and answering its answer.

    The path is percent-encoded again byte for byte, so that ids with spaces
    or NUL characters reach the server as the test wrote them (proxies built
    on ``http.client`` refuse such paths before sending anything).
    """
    import http.client
    from urllib.parse import quote, urlsplit

    parts = urlsplit(url)

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        raw_path = (environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")).encode("latin-1")
        target = quote(raw_path, safe="/!$&'()*+,;=:@-._~")
        if environ.get("QUERY_STRING"):
            target += "?" + environ["QUERY_STRING"]
        headers = {
            key[5:].replace("_", "-").title(): value
            for key, value in environ.items()
            if key.startswith("HTTP_") and key[5:].lower() not in HOP_BY_HOP
        }
        if environ.get("CONTENT_TYPE"):
            headers["Content-Type"] = environ["CONTENT_TYPE"]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        if body or environ["REQUEST_METHOD"] in ("POST", "PUT", "PATCH"):
            headers["Content-Length"] = str(len(body))
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        try:
            connection.putrequest(environ["REQUEST_METHOD"], target, skip_host=True, skip_accept_encoding=True)
            for name, value in headers.items():
                connection.putheader(name, value)
            connection.endheaders(body or None)
            answer = connection.getresponse()
            content = answer.read()
            answered = [(name, value) for name, value in answer.getheaders() if name.lower() not in HOP_BY_HOP]
            start_response(f"{answer.status} {answer.reason}", answered)
            return [content]
        finally:
            connection.close()

    return application


def live_server_has(key: str, value: Any) -> bool:
    """Whether the live server runs with ``key = value`` (``includes``: with at least those plugins)."""
    name = key.removeprefix("kinto.")
    running = next((str(live) for found, live in LIVE_SETTINGS.items() if found.removeprefix("kinto.") == name), None)
    if running is None:
        return False
    if name == "includes":
        return set(str(value).split()) <= set(running.split())
    return running.strip().lower() == str(value).strip().lower()


def live_app() -> webtest.TestApp:
    """WebTest driving the live server at ``LIVE_URL`` over HTTP."""
    return webtest.TestApp(forward_to(LIVE_URL))


def needs_application_in_process(what: str) -> None:
    """Skip the current test when it runs against a live server."""
    if LIVE_URL:
        pytest.skip(f"needs the application in process ({what}): not run against a live server")


def close_clients(app: webtest.TestApp) -> None:
    if LIVE_URL:
        return
    close_backends(app.app.registry)


def flush(app: webtest.TestApp) -> None:
    if LIVE_URL:
        app.post("/v1/__flush__", status=202)
        return
    registry = app.app.registry
    wait_for_index_builds(registry)  # a build of the previous test's would go on in the emptied store
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
def shared_app(
    backend: str, recorder: EventRecorder, extra_settings: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[webtest.TestApp]:
    if LIVE_URL:
        missing = sorted(key for key, value in extra_settings.items() if not live_server_has(key, value))
        if missing:
            pytest.skip(f"needs settings of its own ({', '.join(missing)}): not run against a live server")
        yield live_app()
        return
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
    needs_application_in_process("its events")
    return recorder


@pytest.fixture
def registry(app: webtest.TestApp) -> Any:
    needs_application_in_process("its registry")
    return app.app.registry


@pytest.fixture
def put(app: webtest.TestApp) -> Callable[..., dict[str, Any]]:
    """``put(path, data=None, headers=ALICE, permissions=None)`` → the response body (expects 2xx)."""

    def put_object(
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


@pytest.fixture
def tree(put: Callable[..., dict[str, Any]]) -> Callable[..., None]:
    """``tree()``: Alice's bucket ``b1`` with collection ``c1`` (record ``r1``) and group ``g1`` (Bob)."""

    def build(owner: dict[str, str] = ALICE) -> None:
        put("/buckets/b1", headers=owner)
        put("/buckets/b1/collections/c1", headers=owner)
        put("/buckets/b1/collections/c1/records/r1", {"title": "one"}, headers=owner)
        put("/buckets/b1/groups/g1", {"members": [userid("bob")]}, headers=owner)

    return build
