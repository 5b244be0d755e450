"""kinto-core's pytest plugin, loaded by pytest wherever kinto-core is installed: the markers of the contract suites.

kinto-core declares this package in the ``pytest11`` entry-point group, so a third-party suite
subclassing ``CacheContract`` (whose tests carry ``@pytest.mark.contract``) gets no
``PytestUnknownMarkWarning`` and may select ``-m contract``, without ``-p kinto.core.testing.plugin``.
It lives outside ``kinto.core`` on purpose: pytest loads it before any test, and importing
``kinto.core`` (Pyramid, Cornice) then would slow every run and hide the core's import from coverage.
It imports nothing, so projects that never use the suites (Hypothesis may be absent) pay nothing.
"""

from __future__ import annotations

from typing import Any

__all__ = ["CONTRACT_MARKER", "pytest_configure"]

#: The marker every contract class carries: ``pytest -m contract`` runs the suites alone.
CONTRACT_MARKER = "contract: the kinto.core contract suites (storage, cache, permission, renderer)"


def pytest_configure(config: Any) -> None:
    config.addinivalue_line("markers", CONTRACT_MARKER)
