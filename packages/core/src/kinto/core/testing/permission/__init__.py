"""The permission contract suite.

Subclass ``PermissionContract`` in a test module and provide a
``backend_factory`` fixture: a callable returning a fresh, flushed
``PermissionBase`` (the plugin's default, or
``kinto.core.testing.plugin.BackendFactory``). Optional features follow the
backend's flags ``supports_transactions``, ``supports_savepoints`` and
``supports_concurrent_processes``.

The suite is one class made of one part per topic, each a module of this package:
``principals``, ``entries``, ``accessible``, ``transactions``, ``copying`` and ``prefetch``; ``base``
holds the objects, the shared steps and the fixture.
"""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

from kinto.core.testing.permission.accessible import AccessibleObjectsContract
from kinto.core.testing.permission.copying import CopyContract
from kinto.core.testing.permission.entries import EntriesContract
from kinto.core.testing.permission.prefetch import PrefetchContract
from kinto.core.testing.permission.principals import PrincipalsContract
from kinto.core.testing.permission.transactions import TransactionsContract

__all__ = ["PermissionContract"]


class PermissionContract(
    PrincipalsContract,
    EntriesContract,
    AccessibleObjectsContract,
    TransactionsContract,
    CopyContract,
    PrefetchContract,
):
    """The behaviour every ``PermissionBase`` implementation must show."""

    pytestmark: ClassVar[list[Any]] = [pytest.mark.contract]
