"""Verifications shared through the PostgreSQL cache, as between the processes or hosts of one deployment.

Runs when ``KINTO_TEST_POSTGRESQL_URL`` is set (and must pass then), or when a local server answers
at the default URL; skipped with the reason otherwise. The cache lives in this run's database
``kinto_fxa_tests_<run id>`` (see :mod:`kinto.core.testing.postgresql`).
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from kinto.core.initialization import migrate
from kinto.core.testing.postgresql import postgresql_test_database

from kinto_fxa.testing import OAuthStandIn

from .conftest import CLIENT_ID, USER, bearer

DATABASE = "kinto_fxa_tests"


@pytest.fixture
def postgresql_settings() -> dict[str, Any]:
    return {
        "kinto.cache_backend": "kinto.core.cache.postgresql",
        "kinto.cache_url": postgresql_test_database(DATABASE),
        "kinto.cache_prefix": f"fxa_tests_{uuid.uuid4().hex[:8]}_",
        "fxa_tests.clock": None,
    }


def test_a_verification_made_by_one_process_serves_the_others(
    make_fxa_app: Any, oauth_server: OAuthStandIn, postgresql_settings: dict[str, Any]
) -> None:
    first = make_fxa_app(**postgresql_settings)
    migrate(first.app.registry)
    second = make_fxa_app(**postgresql_settings)
    token = oauth_server.issue_opaque_token(USER, "kinto", CLIENT_ID)
    assert first.get("/v1/protected", headers=bearer(token)).json == {"userid": f"fxa:{USER}"}
    oauth_server.stop()
    assert second.get("/v1/protected", headers=bearer(token)).json == {"userid": f"fxa:{USER}"}
    assert oauth_server.hits["/v1/verify"] == 1


def test_the_login_state_is_shared_too(make_fxa_app: Any, postgresql_settings: dict[str, Any]) -> None:
    first = make_fxa_app(**postgresql_settings)
    migrate(first.app.registry)
    second = make_fxa_app(**postgresql_settings)
    response = first.get("/v1/fxa-oauth/login", params={"redirect": "https://app.example.com/#"}, status=302)
    state = response.location.split("state=", 1)[1].split("&", 1)[0]
    second.get("/v1/fxa-oauth/token", params={"code": "forged", "state": state}, status=400)
    first.get("/v1/fxa-oauth/token", params={"code": "forged", "state": state}, status=408)
