"""A kinto.core application with ``kinto.cache_backend = kinto_riak.cache``."""

from __future__ import annotations

import time
from typing import Any

import pytest
from kinto.core.testing import make_app
from pyramid.security import NO_PERMISSION_REQUIRED

from kinto_riak.cache import RiakCache
from kinto_riak.testing import RiakStandIn


def _cache_views(config: Any) -> None:
    """A view reading and writing the cache, as a plugin (token verification, say) would."""

    def remember(request: Any) -> dict[str, Any]:
        cache = request.registry.cache
        cache.set("visits", (cache.get("visits") or 0) + 1, 60)
        return {"visits": cache.get("visits")}

    config.add_route("remember", "/remember")  # the core mounts routes under /v1
    config.add_view(remember, route_name="remember", renderer="json", permission=NO_PERMISSION_REQUIRED)


def _app(url: str, **extra: Any) -> Any:
    settings = {
        "kinto.cache_backend": "kinto_riak.cache",
        "kinto.cache_url": url,
        "kinto.cache_prefix": "app_",
        "kinto_riak.connect_timeout_seconds": 0.5,
        "kinto_riak.read_timeout_seconds": 0.5,
        **extra,
    }
    return make_app(settings, includes=[_cache_views])


def test_the_app_starts_with_the_riak_cache_and_uses_it(standin: RiakStandIn) -> None:
    app = _app(standin.url)
    assert isinstance(app.app.registry.cache, RiakCache)
    assert app.get("/v1/").status_code == 200
    assert app.get("/v1/remember").json == {"visits": 1}
    assert app.get("/v1/remember").json == {"visits": 2}
    assert standin.keys("default", "kinto_cache") == ["app_5Fvisits"]


def test_the_heartbeat_reports_the_cache(standin: RiakStandIn) -> None:
    response = _app(standin.url).get("/v1/__heartbeat__")
    assert response.status_code == 200
    assert response.json["cache"] is True


def test_an_unreachable_riak_makes_the_heartbeat_503(standin: RiakStandIn) -> None:
    app = _app(standin.url)
    standin.stop()
    response = app.get("/v1/__heartbeat__", status=503)
    assert response.json["cache"] is False


@pytest.mark.parametrize(("riak_timeout", "heartbeat_timeout"), [(0.5, 10.0), (10.0, 0.5)])
def test_a_silent_riak_makes_the_heartbeat_503_within_the_configured_timeout(
    standin: RiakStandIn, riak_timeout: float, heartbeat_timeout: float
) -> None:
    app = _app(
        standin.url,
        **{"kinto_riak.read_timeout_seconds": riak_timeout, "kinto.heartbeat_timeout_seconds": heartbeat_timeout},
    )
    standin.stall()
    started = time.monotonic()
    response = app.get("/v1/__heartbeat__", status=503)
    assert response.json["cache"] is False
    # A bound, not a measurement: the smaller of the two timeouts is 0.5 s.
    assert time.monotonic() - started < 5


def test_a_failing_riak_answers_503_with_the_backend_errno(standin: RiakStandIn) -> None:
    app = _app(standin.url)
    standin.fail_with(500)
    response = app.get("/v1/remember", status=503)
    assert response.json["errno"] == 201
    assert "Retry-After" in response.headers
