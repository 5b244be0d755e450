"""One application per storage backend (memory, SQLite, PostgreSQL), reused by a module's tests.

PostgreSQL: the tests use this run's database ``kinto_resource_tests_<run id>`` on
the server of ``KINTO_TEST_POSTGRESQL_URL`` (see :mod:`kinto.core.testing.postgresql`;
flushing it never touches another suite's or another run's data). That variable set means those tests must
run; unset, a server at ``127.0.0.1:5432`` is tried and the tests are skipped
with the reason when nothing answers there.
"""

import importlib.util
import os

import pytest

from kinto.core.authentication import hmac_digest
from kinto.core.database import REGISTRY_KEY
from kinto.core.events import AfterResourceChanged, ResourceChanged, ResourceRead
from kinto.core.testing import basic_auth_header, make_app

from . import resources_for_tests

DATABASE = "kinto_resource_tests"
BACKENDS = ("memory", "sqlite", "postgresql")
SECRET = "resource-tests-secret"
MAX_BODY_BYTES = 100_000


def userid(name):
    """The prefixed user id basic auth gives ``name`` (password ``secret``)."""
    return "basicauth:" + hmac_digest(SECRET, f"{name}:secret")


ALICE, BOB, CAROL = (basic_auth_header(name) for name in ("alice", "bob", "carol"))

BASE_SETTINGS = {
    "multiauth.policies": "basicauth",
    "userid_hmac_secret": SECRET,
    "max_request_body_bytes": MAX_BODY_BYTES,
    "thing_cache_expires_seconds": 3600,
    "memo_create_principals": userid("alice"),
    "tag_read_principals": "system.Everyone",
}


class EventRecorder:
    """Remembers every ``ResourceChanged`` and ``AfterResourceChanged`` delivered."""

    def __init__(self):
        self.events = []
        self.on_event = None

    def __call__(self, event):
        self.events.append(event)
        if self.on_event is not None:
            self.on_event(event)

    def clear(self):
        self.events.clear()
        self.on_event = None

    def of(self, class_name):
        return [event for event in self.events if type(event).__name__ == class_name]


def _require_module(module, backend):
    if importlib.util.find_spec(module) is not None:
        return
    if backend == "postgresql" and os.environ.get("KINTO_TEST_POSTGRESQL_URL"):
        pytest.fail(f"KINTO_TEST_POSTGRESQL_URL is set but {module} cannot be imported")
    pytest.skip(f"{module} is not available in this installation")


def postgresql_url():
    """This run's database on the test server (created once), or fail/skip as the module docstring says."""
    from kinto.core.testing.postgresql import postgresql_test_database

    return postgresql_test_database(DATABASE)


def backend_settings(backend, tmp_path_factory):
    """Storage and permission settings for ``backend`` (both on the same database)."""
    if backend == "memory":
        return {}
    _require_module(f"kinto.core.storage.{backend}", backend)
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('resources')}/resources.sqlite"
    else:
        url = postgresql_url()
    return {
        "storage_backend": f"kinto.core.storage.{backend}",
        "storage_url": url,
        "permission_backend": f"kinto.core.permission.{backend}",
        "permission_url": url,
    }


def build_app(settings, recorder=None, read_recorder=None):
    def include(config):
        config.include(resources_for_tests.__name__)
        if recorder is not None:
            config.add_subscriber(recorder, ResourceChanged)
            config.add_subscriber(recorder, AfterResourceChanged)
        if read_recorder is not None:
            config.add_subscriber(read_recorder, ResourceRead)

    app = make_app({**BASE_SETTINGS, **settings}, [include])
    registry = app.app.registry
    for backend in (registry.storage, registry.permission):
        if backend is not None:
            backend.initialize_schema()
    return app


def close_clients(app):
    for client in app.app.registry.get(REGISTRY_KEY, {}).values():
        client.close()


def flush(app):
    registry = app.app.registry
    registry.storage.flush()
    if registry.permission is not None:
        registry.permission.flush()
    registry.indexer.calls.clear()
    registry.model_journal.clear()


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request):
    return request.param


@pytest.fixture(scope="module")
def recorder():
    return EventRecorder()


@pytest.fixture(scope="module")
def read_recorder():
    return EventRecorder()


@pytest.fixture(scope="module")
def extra_settings():
    """Settings a test module adds to every backend's application (override in the module)."""
    return {}


@pytest.fixture(scope="module")
def shared_app(backend, recorder, read_recorder, extra_settings, tmp_path_factory):
    app = build_app({**backend_settings(backend, tmp_path_factory), **extra_settings}, recorder, read_recorder)
    yield app
    close_clients(app)


@pytest.fixture
def app(shared_app, recorder, read_recorder):
    """The backend's application, emptied, with no event recorded yet."""
    flush(shared_app)
    recorder.clear()
    read_recorder.clear()
    yield shared_app
    recorder.clear()
    read_recorder.clear()


@pytest.fixture
def events(app, recorder):
    """``ResourceChanged`` and ``AfterResourceChanged`` events delivered."""
    return recorder


@pytest.fixture
def reads(app, read_recorder):
    """``ResourceRead`` events delivered."""
    return read_recorder


@pytest.fixture
def registry(app):
    return app.app.registry


@pytest.fixture
def create(app):
    """``create(path, data, headers=ALICE, permissions=None)`` → the created object."""

    def create_object(path, data, headers=ALICE, permissions=None):
        body = {"data": data}
        if permissions is not None:
            body["permissions"] = permissions
        return app.post_json(path, body, headers=headers, status=201).json["data"]

    return create_object


def known_bug_on(request, backends, reason):
    """Mark the running test as an expected failure on ``backends`` (strict: it fails once fixed)."""
    backend = request.getfixturevalue("backend")
    if backend in backends:
        request.applymarker(pytest.mark.xfail(strict=True, reason=reason))


def assert_error(response, code, errno=None):
    """``response`` is a Kinto JSON error with ``code`` (and ``errno``); return its body."""
    assert response.status_code == code, response.text
    body = response.json
    assert body["code"] == code
    assert {"code", "errno", "error", "message"} <= set(body)
    if errno is not None:
        assert body["errno"] == errno, body
    return body
