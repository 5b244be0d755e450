"""What kinto.plugins.prometheus costs: per request, and per scrape of /v1/__metrics__.

    python bench/metrics_cost.py [--requests 3000] [--endpoints 10 100 1000]

In process, memory backends, no HTTP server (the WSGI application is called
directly), so the figures are the application's own work:

* per-request overhead: the same authenticated ``GET /v1/buckets/b1`` on an
  application without a metrics plugin and on one with Prometheus (request
  counter, latency histogram, size summary, authentication and user counters,
  backend method timers); median of 7 rounds of ``--requests`` requests each, the two
  applications' rounds alternating;
* scrape cost: ``GET /v1/__metrics__`` after N endpoints were recorded (each
  with its counter, histogram and summary series, as the core reports a
  request), median of 20 scrapes, with the body's size.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

from webob import Request

from kinto.core.testing import basic_auth_header
from kinto.server import main

SETTINGS = {
    "multiauth.policies": "basicauth",
    "kinto.userid_hmac_secret": "bench",
    **{f"kinto.{kind}_backend": f"kinto.core.{kind}.memory" for kind in ("storage", "permission", "cache")},
}
AUTH = basic_auth_header("alice")


def call(app: Any, path: str, method: str = "GET", body: bytes | None = None) -> Any:
    request = Request.blank(path, method=method, headers=AUTH)
    if body is not None:
        request.body = body
        request.content_type = "application/json"
    return request.get_response(app)


def per_request_seconds(app: Any, requests: int, rounds: int = 5) -> float:
    timings = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(requests):
            call(app, "/v1/buckets/b1")
        timings.append((time.perf_counter() - start) / requests)
    return statistics.median(timings)


def scrape_cost(endpoints: int) -> tuple[float, int]:
    app = main({}, **SETTINGS, **{"kinto.includes": "kinto.plugins.prometheus"})
    service = app.registry.metrics
    for number in range(endpoints):
        labels = [("method", "get"), ("endpoint", f"endpoint-{number}")]
        service.count("request_summary", unique=[*labels, ("status", "200")])
        service.timer("request_duration_seconds", value=0.002, labels=labels)
        service.observe("request_size", 120, labels=labels)
    call(app, "/v1/__metrics__")  # warm up
    timings = []
    size = 0
    for _ in range(20):
        start = time.perf_counter()
        response = call(app, "/v1/__metrics__")
        timings.append(time.perf_counter() - start)
        size = len(response.body)
    return statistics.median(timings), size


def main_() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--endpoints", type=int, nargs="*", default=[10, 100, 1000])
    options = parser.parse_args()

    apps = {}
    for name, extra in (("no metrics plugin", {}), ("prometheus", {"kinto.includes": "kinto.plugins.prometheus"})):
        apps[name] = main({}, **SETTINGS, **extra)
        call(apps[name], "/v1/buckets/b1", method="PUT", body=b'{"data": {}}')
        per_request_seconds(apps[name], 200, rounds=1)  # warm up
    # Rounds alternate between the two applications, so that a busy machine slows both alike.
    rounds: dict[str, list[float]] = {name: [] for name in apps}
    for _ in range(7):
        for name, app in apps.items():
            rounds[name].append(per_request_seconds(app, options.requests, rounds=1))
    results = {name: statistics.median(values) for name, values in rounds.items()}
    for name, seconds in results.items():
        print(f"GET /v1/buckets/b1, {name}: {seconds * 1e6:.0f} us/request")
    overhead = results["prometheus"] - results["no metrics plugin"]
    print(
        f"Prometheus overhead: {overhead * 1e6:.0f} us/request ({overhead / results['no metrics plugin'] * 100:.0f}%)"
    )
    for endpoints in options.endpoints:
        seconds, size = scrape_cost(endpoints)
        print(f"GET /v1/__metrics__ with {endpoints} endpoints recorded: {seconds * 1e3:.1f} ms, {size} bytes")


if __name__ == "__main__":
    main_()
