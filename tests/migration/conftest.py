"""Fixtures shared by the migration tests."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def kinto_core() -> Path:
    """Kinto 26.5.0's ``kinto/core`` folder (its SQL files), in the venv the benchmark builds and reuses."""
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        from httpbench.servers import KintoReference
    finally:
        sys.path.remove(str(ROOT / "bench"))
    reference = KintoReference()
    reference.install()
    found = sorted(reference.venv.glob("lib/python*/site-packages/kinto/core"))
    assert found, "Kinto's package is missing from its venv"
    return found[0]
