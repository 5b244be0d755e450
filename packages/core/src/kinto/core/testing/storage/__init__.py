"""The storage contract suite: one test class every storage backend must pass.

Use it by subclassing :class:`StorageContract` in a test module and providing
a ``backend_factory`` fixture: a callable returning a fresh, flushed backend::

    import functools
    import pytest
    from kinto.core.testing.storage import StorageContract

    def build(url):
        backend = MyStorage(url)
        backend.initialize_schema()
        backend.flush()
        return backend

    class TestMyStorage(StorageContract):
        @pytest.fixture
        def backend_factory(self):
            return functools.partial(build, "my://throwaway")

The suite flushes the backend: point it at a throwaway database, e.g. one of
:mod:`kinto.core.testing.postgresql` (private to the test run; re-exported here). Optional
features follow the backend's capability flags: without
``supports_transactions`` or ``supports_concurrent_processes`` the matching
tests are skipped with the reason. The concurrent-process tests need a
picklable factory (a ``functools.partial`` of a module-level function), since
each process builds its own backend.

The suite is one class made of one part per topic, each a module of this package:
``objects``, ``timestamps``, ``transactions``, ``querying`` (with declared indexes), ``bulk``,
``copying``, ``prefetch`` and ``conditional``; ``base`` holds the data sets, the shared steps and the fixtures.
"""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

from kinto.core.testing.postgresql import postgresql_test_database, postgresql_test_url
from kinto.core.testing.storage.base import (
    DEFAULT_POSTGRESQL_TEST_URL,
    FILTER_CASES,
    TYPED_ASCENDING,
    TYPED_OBJECTS,
    backend_selected,
)
from kinto.core.testing.storage.bulk import BulkContract
from kinto.core.testing.storage.conditional import ConditionalWritesContract
from kinto.core.testing.storage.copying import CopyContract
from kinto.core.testing.storage.objects import ObjectsContract
from kinto.core.testing.storage.prefetch import PrefetchContract
from kinto.core.testing.storage.querying import QueryingContract
from kinto.core.testing.storage.timestamps import TimestampsContract
from kinto.core.testing.storage.transactions import TransactionsContract

__all__ = [
    "DEFAULT_POSTGRESQL_TEST_URL",
    "FILTER_CASES",
    "TYPED_ASCENDING",
    "TYPED_OBJECTS",
    "StorageContract",
    "backend_selected",
    "postgresql_test_database",
    "postgresql_test_url",
]


class StorageContract(
    ObjectsContract,
    TimestampsContract,
    TransactionsContract,
    QueryingContract,
    BulkContract,
    CopyContract,
    PrefetchContract,
    ConditionalWritesContract,
):
    """Tests every storage backend passes. Provide a ``backend_factory`` fixture."""

    pytestmark: ClassVar[list[Any]] = [pytest.mark.contract]
