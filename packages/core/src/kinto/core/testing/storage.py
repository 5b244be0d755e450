"""The storage contract suite (placeholder: filled in by the next commits)."""

from __future__ import annotations

import os

import pytest

__all__ = ["DEFAULT_POSTGRESQL_TEST_URL", "postgresql_test_url"]

#: Used when ``KINTO_TEST_POSTGRESQL_URL`` is unset and a local server answers.
DEFAULT_POSTGRESQL_TEST_URL = "postgresql://postgres@127.0.0.1:5432/kinto_storage_tests"


def postgresql_test_url(default: str = DEFAULT_POSTGRESQL_TEST_URL) -> str:
    """The PostgreSQL URL tests must use, or ``pytest.skip`` with the reason.

    ``KINTO_TEST_POSTGRESQL_URL`` set: that server MUST answer (the test fails
    otherwise). Unset: ``default`` is tried, and the test is skipped visibly
    when nothing answers there.
    """
    url = os.environ.get("KINTO_TEST_POSTGRESQL_URL")
    required = bool(url)
    url = url or default
    try:
        import psycopg
    except ImportError:
        if required:
            pytest.fail("KINTO_TEST_POSTGRESQL_URL is set but psycopg is not installed")
        pytest.skip("PostgreSQL tests need psycopg (pip install 'kinto-core[postgresql]')")
    try:
        from kinto.core.database.postgresql import normalize_url

        with psycopg.connect(normalize_url(url), connect_timeout=2):
            pass
    except psycopg.Error as error:
        if required:
            pytest.fail(f"KINTO_TEST_POSTGRESQL_URL={url} is set but unreachable: {error}")
        pytest.skip(f"no PostgreSQL server answers at {url} (set KINTO_TEST_POSTGRESQL_URL to require one)")
    return url
