"""The pytest plugin of the contract suites (opt-in: ``pytest -p kinto.core.testing.plugin``).

It adds two options and the default fixtures the contract classes use::

    pytest -p kinto.core.testing.plugin --kinto-backend=kinto_riak.cache \\
           --kinto-setting cache_url=http://localhost:8098 test_riak.py

where ``test_riak.py`` holds ``class TestRiak(CacheContract): pass``.

- ``backend_factory``: a ``BackendFactory`` for ``--kinto-backend`` (a dotted
  module with ``load_from_config``) configured with every ``--kinto-setting``;
  calling it returns a fresh backend whose schema is initialised and whose
  data is flushed. Override the fixture to build backends another way.
- ``renderer_factory``: ``renderer_factory(settings) -> renderer`` for
  ``--kinto-backend`` naming a renderer class or callable.

The helpers the suites share live here too: ``BackendFactory``,
``build_with_settings``, ``require_flag``, ``run_in_processes``, ``run_in_threads``.
"""

from __future__ import annotations

import importlib
import inspect
import multiprocessing
import os
import threading
import traceback
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest
from hypothesis import HealthCheck
from kinto_core_pytest import CONTRACT_MARKER
from pyramid.config import Configurator
from pyramid.path import DottedNameResolver

from kinto.core.backends import kind_of, load_backend

__all__ = [
    "CONTRACT_HEALTH_CHECKS",
    "BackendFactory",
    "build_unflushed",
    "build_with_settings",
    "parse_setting",
    "require_flag",
    "run_in_processes",
    "run_in_threads",
    "settings_in_both_forms",
]

_DATABASE_CLIENTS = "kinto.database.clients"

#: Health checks the suites' Hypothesis tests suppress, on purpose: the backend
#: is a function-scoped fixture flushed by each example, and one contract test
#: runs once per subclass (one per backend), hence from several executors.
CONTRACT_HEALTH_CHECKS = (HealthCheck.function_scoped_fixture, HealthCheck.differing_executors)


def settings_in_both_forms(settings: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``settings`` holding every key both as ``x`` and ``kinto.x``,
    as the core's settings rule leaves them."""
    both: dict[str, Any] = {}
    for key, value in settings.items():
        short = key[len("kinto.") :] if key.startswith("kinto.") else key
        both[short] = value
        both[f"kinto.{short}"] = value
    return both


def parse_setting(text: str) -> tuple[str, str]:
    """Split a ``key=value`` command-line setting; raise ``ValueError`` when there is no ``=``."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise ValueError(f"expected key=value, got {text!r}")
    return key.strip(), value.strip()


class BackendFactory:
    """Builds backends of one module for the contract suites.

    ``BackendFactory(module, settings, kind=None)``; calling it as
    ``factory(settings=None, flush=True)`` returns a backend loaded through
    ``load_from_config`` from a Configurator holding ``settings`` (merged over
    the factory's, in both spellings), with ``initialize_schema()`` done once
    per configuration and ``flush()`` done on every call unless ``flush`` is
    false. Configurations, hence shared database clients, are reused per
    settings and per process (a forked child builds its own); ``close()``
    closes the clients opened.
    """

    def __init__(self, module: str, settings: Mapping[str, Any] | None = None, kind: str | None = None) -> None:
        self.module = module
        self.settings = dict(settings or {})
        self.kind = kind
        self._kind_given = kind is not None
        self._configs: dict[tuple[int, tuple[tuple[str, str], ...]], Configurator] = {}
        self._initialized: set[int] = set()

    def __repr__(self) -> str:
        return f"<BackendFactory {self.module} {self.kind or ''}>"

    def __call__(self, settings: Mapping[str, Any] | None = None, *, flush: bool = True) -> Any:
        config = self._config({**self.settings, **(settings or {})})
        backend = self._load(config)
        if id(config) not in self._initialized:
            backend.initialize_schema()
            self._initialized.add(id(config))
        if flush:
            backend.flush()
        return backend

    def _config(self, settings: Mapping[str, Any]) -> Configurator:
        key = (os.getpid(), tuple(sorted((str(name), repr(value)) for name, value in settings.items())))
        config = self._configs.get(key)
        if config is None:
            both = settings_in_both_forms(settings)
            if self._kind_given:
                both.update(settings_in_both_forms({f"{self.kind}_backend": self.module}))
            config = Configurator(settings=both)
            self._configs[key] = config
        return config

    def _load(self, config: Configurator) -> Any:
        if self._kind_given:
            backend = load_backend(config, self.kind)
        else:  # a dotted module; its kind is whatever it builds
            backend = importlib.import_module(self.module).load_from_config(config)
            self.kind = kind_of(backend)
        if backend is None or kind_of(backend) is None:
            raise TypeError(f"{self.module}.load_from_config returned {backend!r}, not a backend")
        return backend

    def close(self) -> None:
        """Close the database clients of the configurations built in this process."""
        pid = os.getpid()
        for (owner, _), config in list(self._configs.items()):
            if owner != pid:
                continue
            for client in list(config.registry.get(_DATABASE_CLIENTS, {}).values()):
                close = getattr(client, "close", None)
                if callable(close):
                    close()
        self._configs.clear()
        self._initialized.clear()


def _parameters(factory: Callable[..., Any]) -> Mapping[str, inspect.Parameter]:
    try:
        return inspect.signature(factory).parameters
    except (TypeError, ValueError):
        return {}


def build_with_settings(factory: Callable[..., Any], settings: Mapping[str, Any], *, flush: bool = True) -> Any:
    """Call ``factory(settings=..., flush=...)``, or skip the test (visibly)
    when the factory does not take ``settings``."""
    parameters = _parameters(factory)
    if "settings" not in parameters:
        pytest.skip(f"backend_factory {factory!r} takes no settings argument: cannot build a second backend")
    if "flush" in parameters:
        return factory(settings=settings, flush=flush)
    return factory(settings=settings)


def build_unflushed(factory: Callable[..., Any]) -> Any:
    """Call ``factory(flush=False)`` when it accepts it, else ``factory()``."""
    return factory(flush=False) if "flush" in _parameters(factory) else factory()


def require_flag(backend: Any, flag: str) -> None:
    """Skip the test, saying why, unless ``backend`` declares ``flag = True``."""
    if not getattr(backend, flag, False):
        pytest.skip(f"{type(backend).__module__}.{type(backend).__qualname__} declares {flag} = False")


def run_in_processes(
    work: Callable[[int, Any], None],
    *,
    count: int = 2,
    prepare: Callable[[int], Any] | None = None,
    timeout: float = 120.0,
) -> None:
    """Run ``work(index, prepared)`` in ``count`` forked processes at once.

    Each child first runs ``prepare(index)`` (e.g. builds its own backend),
    then all of them start ``work`` together. Raises ``AssertionError`` with
    the children's tracebacks when one fails or hangs; skips where ``fork``
    is unavailable.
    """
    try:
        context = multiprocessing.get_context("fork")
    except ValueError:
        pytest.skip("the processes tests need the 'fork' start method")
    barrier = context.Barrier(count)
    errors = context.Queue()

    def child(index: int) -> None:
        # os._exit: the child must not run its parent's cleanup (pools, sockets, pytest).
        try:
            prepared = prepare(index) if prepare is not None else None
            barrier.wait(timeout)
            work(index, prepared)
        except BaseException:
            errors.put(f"process {index}:\n{traceback.format_exc()}")
            os._exit(1)
        os._exit(0)

    processes = [context.Process(target=child, args=(index,), daemon=True) for index in range(count)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout)
    failures = []
    for index, process in enumerate(processes):
        if process.is_alive():
            process.kill()
            failures.append(f"process {index} did not finish within {timeout} s")
        elif process.exitcode != 0:
            failures.append(f"process {index} exited with {process.exitcode}")
    while not errors.empty():
        failures.append(errors.get_nowait())
    assert not failures, "\n".join(failures)


def run_in_threads(work: Callable[[int], None], *, count: int) -> None:
    """Run ``work(index)`` in ``count`` threads at once and wait for them all.

    Raises ``AssertionError`` with the traceback of every thread that failed.
    """
    failures: list[str] = []

    def thread(index: int) -> None:
        try:
            work(index)
        except BaseException:
            failures.append(f"thread {index}:\n{traceback.format_exc()}")

    threads = [threading.Thread(target=thread, args=(index,)) for index in range(count)]
    for started in threads:
        started.start()
    for started in threads:
        started.join()
    assert not failures, "\n".join(failures)


# -- the pytest plugin ---------------------------------------------------------


def pytest_configure(config: pytest.Config) -> None:
    # Also done by the pytest11 entry point; repeated for ``-p`` runs where entry points are disabled.
    config.addinivalue_line("markers", CONTRACT_MARKER)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("kinto", "Kinto contract suites")
    group.addoption(
        "--kinto-backend",
        dest="kinto_backend",
        default=None,
        help="dotted module with load_from_config(config) (or a renderer class/callable) to test",
    )
    group.addoption(
        "--kinto-kind",
        dest="kinto_kind",
        default=None,
        help="storage, cache or permission: lets --kinto-backend be an entry-point short name",
    )
    group.addoption(
        "--kinto-setting",
        dest="kinto_settings",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a setting given to the backend (repeatable); written kinto.x or x",
    )


def _option_settings(config: pytest.Config) -> dict[str, str]:
    settings = {}
    for text in config.getoption("kinto_settings") or []:
        try:
            key, value = parse_setting(text)
        except ValueError as error:
            raise pytest.UsageError(f"--kinto-setting: {error}") from error
        settings[key] = value
    return settings


def _required_target(config: pytest.Config) -> str:
    target = config.getoption("kinto_backend")
    if not target:
        pytest.skip("no --kinto-backend given and no backend_factory fixture overridden")
    return target


@pytest.fixture(scope="session")
def kinto_backend_factory(request: pytest.FixtureRequest) -> Iterator[BackendFactory]:
    """The session-wide ``BackendFactory`` built from the command-line options."""
    target = _required_target(request.config)
    factory = BackendFactory(target, _option_settings(request.config), kind=request.config.getoption("kinto_kind"))
    yield factory
    factory.close()


@pytest.fixture
def backend_factory(kinto_backend_factory: BackendFactory) -> BackendFactory:
    """A callable returning a fresh, flushed backend (see ``BackendFactory``)."""
    return kinto_backend_factory


@pytest.fixture
def renderer_factory(request: pytest.FixtureRequest) -> Callable[[Mapping[str, Any]], Any]:
    """``renderer_factory(settings) -> renderer`` for the renderer named by ``--kinto-backend``."""
    from kinto.core.logs import build_renderer

    target = DottedNameResolver().resolve(_required_target(request.config))
    defaults = _option_settings(request.config)

    def build(settings: Mapping[str, Any] | None = None) -> Any:
        return build_renderer(target, settings_in_both_forms({**defaults, **(settings or {})}))

    return build
