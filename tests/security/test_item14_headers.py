"""Item 14: security headers as Kinto 26.5.0 sends them (compared side by side).

* ``Content-Security-Policy: default-src 'none'; frame-ancestors 'none'; base-uri 'none';``
  (Kinto's text as HTTP/1.1 clients read it: Kinto sends a trailing space, which HTTP/1.1
  parsers strip and HTTP/2 clients reject) and ``X-Content-Type-Options: nosniff`` on every
  response: successes, errors, CORS preflights, the batch and each of its
  sub-responses;
* reads of resources by an identified user are ``Cache-Control: no-cache,
  no-store``, even where ``<resource>_cache_expires_seconds`` lets anonymous
  reads be cached (anonymous reads without such a setting say the same);
* the anonymous root is cached for ``root_cache_expires_seconds`` only when
  the server is read-only (it says whether it is, and would keep saying it);
  an identified user's root lists their principals and is never cached (where
  Kinto 26.5.0 caches it in read-only mode).

Headers do not depend on the storage: these run on the memory backends.
"""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import ALICE, BOB

CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none';"
NOT_STORED = "no-cache, no-store"
RECORD = "/v1/buckets/b/collections/c/records/r"


@pytest.fixture
def backend() -> str:
    return "memory"


@pytest.fixture
def shared(app: Any, put: Any) -> Any:
    """A bucket everyone may read, with a collection and a record."""
    put(app, "/buckets/b", permissions={"read": ["system.Everyone"]})
    put(app, "/buckets/b/collections/c")
    put(app, "/buckets/b/collections/c/records/r", {"title": "hello"})
    return app


def assert_security_headers(headers: Any, where: str) -> None:
    assert headers.get("Content-Security-Policy") == CSP, where
    assert headers.get("X-Content-Type-Options") == "nosniff", where


REQUESTS = [
    ("GET", "/v1/", None, 200),
    ("GET", "/v1/", ALICE, 200),
    ("GET", "/v1/__heartbeat__", None, 200),
    ("GET", "/v1/__lbheartbeat__", None, 200),
    ("GET", "/v1/__api__", None, 200),
    ("GET", "/v1/buckets/b", ALICE, 200),
    ("HEAD", "/v1/buckets/b/collections/c/records", None, 200),
    ("GET", "/v1/buckets/b/collections/c/records/nope", ALICE, 404),
    ("GET", "/v1/buckets/b/collections/c/records?_since=abc", ALICE, 400),
    ("GET", "/v1/nowhere", None, 404),
    ("GET", "/v1", None, 307),
    ("PATCH", "/v1/buckets/b", None, 401),
    ("DELETE", "/v1/buckets/b", BOB, 403),
]


@pytest.mark.parametrize(("method", "path", "headers", "status"), REQUESTS)
def test_every_response_carries_the_content_security_policy(
    shared: Any, method: str, path: str, headers: dict[str, str] | None, status: int
) -> None:
    response = shared.request(path, method=method, headers=headers or {}, expect_errors=True)
    assert response.status_code == status
    assert_security_headers(response.headers, f"{method} {path}")


def test_cors_preflights_carry_the_content_security_policy(shared: Any) -> None:
    response = shared.options(
        "/v1/buckets/b", headers={"Origin": "https://example.org", "Access-Control-Request-Method": "GET"}
    )
    assert response.status_code == 200
    assert_security_headers(response.headers, "preflight")


def test_the_batch_and_each_sub_response_carry_the_content_security_policy(shared: Any) -> None:
    body = {"requests": [{"path": "/buckets/b"}, {"path": "/buckets/nope"}]}
    response = shared.post_json("/v1/batch", body, headers=ALICE)
    assert_security_headers(response.headers, "batch")
    for sub_response in response.json["responses"]:
        assert_security_headers(sub_response["headers"], sub_response["path"])


@pytest.mark.parametrize("method", ["GET", "HEAD"])
@pytest.mark.parametrize("path", ["/v1/buckets/b", "/v1/buckets/b/collections/c/records", RECORD])
def test_reads_say_no_cache_no_store(shared: Any, method: str, path: str) -> None:
    for headers in (ALICE, BOB, {}):
        response = shared.request(path, method=method, headers=headers)
        assert response.headers["Cache-Control"] == NOT_STORED
        assert "Expires" not in response.headers


def test_batch_sub_responses_of_reads_say_no_cache_no_store(shared: Any) -> None:
    response = shared.post_json("/v1/batch", {"requests": [{"path": RECORD[3:]}]}, headers=ALICE)
    assert response.json["responses"][0]["headers"]["Cache-Control"] == NOT_STORED


@pytest.mark.parametrize("path", ["/v1/buckets/b/collections/c/records", RECORD])
def test_an_expiry_setting_caches_anonymous_reads_only(make_app: Any, put: Any, path: str) -> None:
    app = make_app({"kinto.record_cache_expires_seconds": "3600"})
    put(app, "/buckets/b", permissions={"read": ["system.Everyone"]})
    put(app, "/buckets/b/collections/c")
    put(app, "/buckets/b/collections/c/records/r")

    anonymous = app.get(path)
    assert anonymous.headers["Cache-Control"] == "max-age=3600"
    assert "Expires" in anonymous.headers
    for headers in (ALICE, BOB):
        identified = app.get(path, headers=headers)
        assert identified.headers["Cache-Control"] == NOT_STORED
        assert "Expires" not in identified.headers


def test_a_collection_expiry_caches_anonymous_reads_only(shared: Any, put: Any) -> None:
    put(shared, "/buckets/b/collections/c", {"cache_expires": 60})
    assert shared.get(RECORD).headers["Cache-Control"] == "max-age=60"
    assert shared.get(RECORD, headers=BOB).headers["Cache-Control"] == NOT_STORED


def test_the_anonymous_root_is_cached_on_a_read_only_server_only(app: Any, make_app: Any) -> None:
    writable = app.get("/v1/")
    assert "max-age" not in writable.headers.get("Cache-Control", "")
    assert "Expires" not in writable.headers

    readonly = make_app({"kinto.readonly": "true", "kinto.root_cache_expires_seconds": "600"}).get("/v1/")
    assert readonly.json["settings"]["readonly"] is True
    assert readonly.headers["Cache-Control"] == "max-age=600"
    assert "Expires" in readonly.headers


@pytest.mark.parametrize("readonly", ["false", "true"])
def test_an_identified_root_is_never_cached(make_app: Any, readonly: str) -> None:
    app = make_app({"kinto.readonly": readonly})
    response = app.get("/v1/", headers=ALICE)
    assert "principals" in response.json["user"]
    assert response.headers["Cache-Control"] == NOT_STORED
    assert "Expires" not in response.headers
