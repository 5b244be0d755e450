"""The metrics contract: the no-op default, and what the core reports to a registered service."""

import pytest

from kinto.core.metrics import IMetricsService, NoOpMetricsService, get_metrics_service
from kinto.core.testing import make_app
from kinto.core.testing.metrics import RecordingMetricsService


def test_without_a_metrics_service_the_no_op_one_answers_every_call():
    registry = make_app().app.registry
    service = get_metrics_service(registry)
    assert isinstance(service, NoOpMetricsService)
    assert IMetricsService.providedBy(service)
    with service.timer("block"):
        pass
    assert service.timer("function")(len)([1, 2]) == 2
    assert service.count("things", unique=[("kind", "a")]) is None
    assert service.observe("size", 3, labels=[("kind", "a")]) is None
    # Cache backends report to it without a service being registered.
    registry.cache.get("missing")


@pytest.fixture
def measured():
    service = RecordingMetricsService()
    return service, make_app({}, [service.include])


def test_cache_hits_and_misses_are_counted_by_the_registered_service(measured):
    service, app = measured
    cache = app.app.registry.cache
    cache.get("missing")
    cache.set("present", {"a": 1}, 60)
    cache.get("present")
    cache.get("present")
    assert (service.counted("cache_hits"), service.counted("cache_misses")) == (2, 1)


def test_an_expired_key_counts_as_a_miss(measured):
    service, app = measured
    cache = app.app.registry.cache
    cache.set("gone", 1, 0)
    assert cache.get("gone") is None
    assert (service.counted("cache_hits"), service.counted("cache_misses")) == (0, 1)


def test_backend_methods_are_timed_per_method(measured):
    service, app = measured
    app.get("/v1/__heartbeat__")
    timed = set(service.timed)
    for kind in ("storage", "permission", "cache"):
        assert (f"backend.{kind}.seconds", (("method", "heartbeat"),)) in timed
