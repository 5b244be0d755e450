"""One application per storage backend (memory, SQLite, PostgreSQL), reused by a module's tests.

PostgreSQL: the tests use this run's database ``kinto_batch_tests_<run id>`` on the
server of ``KINTO_TEST_POSTGRESQL_URL`` (see :mod:`kinto.core.testing.postgresql`). That
variable set means those tests must run; unset, a server at ``127.0.0.1:5432`` is
tried and the tests are skipped with the reason when nothing answers there.
"""

import importlib.util
import os

import pytest

from kinto.core.backends import close_backends
from kinto.core.events import AfterResourceChanged, ResourceChanged
from kinto.core.testing import make_app

from . import services_for_batch

DATABASE = "kinto_batch_tests"
BACKENDS = ("memory", "sqlite", "postgresql")
BASE_SETTINGS = {
    "multiauth.policies": "basicauth",
    "userid_hmac_secret": "batch-tests-secret",
    "batch_max_requests": 10,
}


class EventRecorder:
    """Remembers every ``ResourceChanged``/``AfterResourceChanged`` delivered."""

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

    def summary(self):
        return [
            (type(event).__name__, event.payload["action"], sorted(obj["new"]["id"] for obj in event.impacted_objects))
            for event in self.events
        ]


def _require_module(module, backend):
    if importlib.util.find_spec(module) is not None:
        return
    if backend == "postgresql" and os.environ.get("KINTO_TEST_POSTGRESQL_URL"):
        pytest.fail(f"KINTO_TEST_POSTGRESQL_URL is set but {module} cannot be imported")
    pytest.skip(f"{module} is not available in this installation")


def backend_settings(backend, tmp_path_factory):
    """Storage and permission settings for ``backend`` (both on the same database)."""
    if backend == "memory":
        return {}
    _require_module(f"kinto.core.storage.{backend}", backend)
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('batch')}/batch.sqlite"
    else:
        from kinto.core.testing.postgresql import postgresql_test_database

        url = postgresql_test_database(DATABASE)
    return {
        "storage_backend": f"kinto.core.storage.{backend}",
        "storage_url": url,
        "permission_backend": f"kinto.core.permission.{backend}",
        "permission_url": url,
    }


def build_app(settings, recorder=None):
    def include(config):
        config.scan(services_for_batch.__name__)
        if recorder is not None:
            config.add_subscriber(recorder, ResourceChanged)
            config.add_subscriber(recorder, AfterResourceChanged)

    app = make_app({**BASE_SETTINGS, **settings}, [include])
    registry = app.app.registry
    for backend in (registry.storage, registry.permission):
        if backend is not None:
            backend.initialize_schema()
    return app


def close_clients(app):
    close_backends(app.app.registry)


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request):
    return request.param


@pytest.fixture(scope="module")
def recorder():
    return EventRecorder()


@pytest.fixture(scope="module")
def shared_app(backend, recorder, tmp_path_factory):
    app = build_app(backend_settings(backend, tmp_path_factory), recorder)
    yield app
    close_clients(app)


@pytest.fixture
def app(shared_app, recorder):
    """The backend's application, emptied, with no event recorded yet."""
    registry = shared_app.app.registry
    registry.storage.flush()
    if registry.permission is not None:
        registry.permission.flush()
    recorder.clear()
    yield shared_app
    recorder.clear()


@pytest.fixture
def events(app, recorder):
    return recorder


@pytest.fixture
def stored(app):
    """The ids of the items stored, read outside any request."""

    def read():
        return services_for_batch.stored_items(app.app.registry)

    return read
