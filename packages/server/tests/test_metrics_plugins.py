"""kinto.plugins.prometheus, kinto.plugins.statsd and Sentry, through HTTP on every backend.

Prometheus is read back from ``GET /v1/__metrics__`` with prometheus_client's own
parser; StatsD packets are received on a UDP socket the test listens on; Sentry
events reach a small HTTP server on 127.0.0.1 named by the DSN.
"""

from __future__ import annotations

import gzip
import json
import socket
import threading
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest
import webtest
from kinto.core.testing import basic_auth_header
from prometheus_client.parser import text_string_to_metric_families
from pyramid.exceptions import ConfigurationError

from . import failing_listener
from .conftest import ALICE, backend_settings, build_app, close_clients, flush, needs_application_in_process

PROMETHEUS = {"kinto.includes": "kinto.plugins.prometheus"}


@pytest.fixture
def make_app(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """``make_app(settings)``: an application of the backend with ``settings`` added, emptied."""
    needs_application_in_process("settings of its own")
    apps: list[webtest.TestApp] = []

    def make(settings: dict[str, Any]) -> webtest.TestApp:
        app = build_app({**backend_settings(backend, tmp_path_factory.mktemp("metrics")), **settings})
        flush(app)
        apps.append(app)
        return app

    yield make
    for app in apps:
        close_clients(app)


def samples(app: webtest.TestApp, name: str) -> list[tuple[dict[str, str], float]]:
    """The ``(labels, value)`` of every sample called ``name`` at ``/v1/__metrics__``."""
    text = app.get("/v1/__metrics__").text
    return [
        (sample.labels, sample.value)
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    ]


def value(app: webtest.TestApp, name: str, **labels: str) -> float:
    """The value of the one sample ``name`` whose labels include ``labels`` (0 when there is none)."""
    found = [v for sample_labels, v in samples(app, name) if labels.items() <= sample_labels.items()]
    assert len(found) <= 1, found
    return found[0] if found else 0.0


# --- Prometheus ------------------------------------------------------------------------------------


def test_prometheus_capability_and_endpoint(make_app):
    app = make_app(PROMETHEUS)
    capability = app.get("/v1/").json["capabilities"]["prometheus"]
    assert capability["prefix"] == "kinto_"
    assert capability["disabled_metrics"] == []
    response = app.get("/v1/__metrics__")
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    # The process collectors are there, as with Kinto's global registry.
    assert "process_cpu_seconds_total" in response.text or "python_info" in response.text


def test_requests_are_counted_and_timed_per_endpoint_and_status(make_app):
    app = make_app(PROMETHEUS)
    app.put_json("/v1/buckets/b1", {"data": {}}, headers=ALICE, status=201)
    app.put_json("/v1/buckets/b1/collections/c1", {"data": {}}, headers=ALICE, status=201)
    for number in range(3):
        app.put_json(f"/v1/buckets/b1/collections/c1/records/r{number}", {"data": {}}, headers=ALICE, status=201)
        app.get(f"/v1/buckets/b1/collections/c1/records/r{number}", headers=ALICE, status=200)
    app.get("/v1/buckets/b1/collections/c1/records/missing", headers=ALICE, status=404)

    count = "kinto_request_summary_total"
    assert value(app, count, endpoint="bucket-object", method="put", status="201") == 1
    assert value(app, count, endpoint="record-object", method="put", status="201") == 3
    assert value(app, count, endpoint="record-object", method="get", status="200") == 3
    assert value(app, count, endpoint="record-object", method="get", status="404") == 1
    # A latency histogram per endpoint and method: every request falls in the +Inf bucket.
    histogram = "kinto_request_duration_seconds_bucket"
    assert value(app, histogram, endpoint="record-object", method="get", le="+Inf") == 4
    assert value(app, "kinto_request_duration_seconds_count", endpoint="record-object", method="put") == 3
    assert value(app, "kinto_request_size_count", endpoint="record-object", method="get") == 4
    assert value(app, "kinto_authentication_total", type="basicauth") >= 9


def test_endpoint_labels_are_route_names_never_paths_or_ids(make_app):
    app = make_app(PROMETHEUS)
    app.put_json("/v1/buckets/b1", {"data": {}}, headers=ALICE)
    app.put_json("/v1/buckets/b1/collections/c1", {"data": {}}, headers=ALICE)
    ids = [f"secret-id-{number}" for number in range(20)]
    for record_id in ids:
        app.put_json(f"/v1/buckets/b1/collections/c1/records/{record_id}", {"data": {}}, headers=ALICE)
        app.get(f"/v1/buckets/b1/collections/c1/records/{record_id}", headers=ALICE)
        app.get(f"/v1/no/such/{record_id}", status=404)
        app.get(f"/v1/buckets/{record_id}", headers=ALICE, status=403)

    text = app.get("/v1/__metrics__").text
    assert not any(record_id in text for record_id in ids)
    endpoints = {labels["endpoint"] for labels, _ in samples(app, "kinto_request_summary_total")}
    assert endpoints == {"bucket-object", "collection-object", "record-object", "unknown", "prometheus_metrics"}
    # 20 times more requests, the same number of series (each scrape is counted too).
    assert len(samples(app, "kinto_request_summary_total")) == 7


def test_histogram_buckets_prefix_and_disabled_metrics_come_from_settings(make_app):
    app = make_app(
        {
            **PROMETHEUS,
            "kinto.prometheus_histogram_buckets": "0.25 2 Inf",
            "kinto.prometheus_prefix": "remote-settings",
            "kinto.prometheus_disabled_metrics": "request_size remotesettings_users",
        }
    )
    assert app.get("/v1/").json["capabilities"]["prometheus"]["prefix"] == "remotesettings_"
    app.get("/v1/", headers=ALICE)
    bounds = {labels["le"] for labels, _ in samples(app, "remotesettings_request_duration_seconds_bucket")}
    assert bounds == {"0.25", "2.0", "+Inf"}
    assert samples(app, "remotesettings_request_size_count") == []
    assert samples(app, "remotesettings_users_total") == []
    assert samples(app, "kinto_request_summary_total") == []


def test_label_sets_past_the_limit_share_one_series(make_app):
    # Ids as labels only on demand (Kinto labels them by default), and then bounded.
    app = make_app(
        {
            **PROMETHEUS,
            "kinto.metrics_matchdict_fields": "bucket_id record_id",
            "kinto.prometheus_max_series_per_metric": "3",
        }
    )
    app.put_json("/v1/buckets/b1", {"data": {}}, headers=ALICE)
    app.put_json("/v1/buckets/b1/collections/c1", {"data": {}}, headers=ALICE)
    for number in range(6):
        app.put_json(f"/v1/buckets/b1/collections/c1/records/r{number}", {"data": {}}, headers=ALICE)

    found = samples(app, "kinto_request_summary_total")
    assert len(found) == 3 + 1
    assert sum(v for _, v in found) == 8
    other = [v for labels, v in found if labels["record_id"] == "_other"]
    assert other == [8 - 3]
    assert all(labels["endpoint"] == "_other" for labels, _ in found if labels["record_id"] == "_other")
    assert {labels["bucket_id"] for labels, _ in found} == {"b1", "_other"}


def test_backend_methods_are_timed(make_app):
    app = make_app(PROMETHEUS)
    app.put_json("/v1/buckets/b1", {"data": {}}, headers=ALICE)
    app.patch_json("/v1/buckets/b1", {"data": {"n": 1}}, headers=ALICE)
    app.get("/v1/buckets/b1", headers=ALICE)
    assert value(app, "kinto_backend_storage_seconds_count", method="create") >= 1
    assert value(app, "kinto_backend_storage_seconds_count", method="update") >= 1
    # The bucket is read ahead with the ACLs (by ``get`` where storage does not read ahead).
    reads = sum(value(app, "kinto_backend_storage_seconds_count", method=name) for name in ("get", "prefetch_objects"))
    assert reads >= 1
    assert value(app, "kinto_backend_permission_seconds_count", method="get_accessible_objects") >= 0
    methods = {labels["method"] for labels, _ in samples(app, "kinto_backend_permission_seconds_count")}
    assert methods  # every public method of the permission backend has its histogram


def test_cache_hits_and_misses_are_counted(make_app):
    # Accounts remember a checked login in the cache: the first request misses, the next ones hit.
    app = make_app(
        {
            "kinto.includes": "kinto.plugins.prometheus kinto.plugins.accounts",
            "multiauth.policies": "account",
            "multiauth.policy.account.use": "kinto.plugins.accounts.AccountsPolicy",
            "kinto.account_create_principals": "system.Everyone",
            "kinto.account_bcrypt_rounds": "4",
        }
    )
    app.put_json("/v1/accounts/alice", {"data": {"password": "s3cret"}}, status=201)
    misses = value(app, "kinto_cache_misses_total")
    hits = value(app, "kinto_cache_hits_total")
    login = {"Authorization": basic_auth_header("alice", "s3cret")["Authorization"]}
    for _ in range(3):
        app.get("/v1/", headers=login)
    assert value(app, "kinto_cache_misses_total") >= misses + 1
    assert value(app, "kinto_cache_hits_total") >= hits + 2
    assert value(app, "kinto_backend_cache_seconds_count", method="get") >= 3


def test_plugin_metrics_reach_prometheus_through_registry_metrics(make_app):
    app = make_app(PROMETHEUS)
    service = app.app.registry.metrics
    service.count("attachments", unique=[("bucket", "b1")])
    service.observe("attachment_size", 123.0)
    with service.timer("upload.seconds", labels=[("kind", "image")]):
        pass
    assert value(app, "kinto_attachments_total", bucket="b1") == 1
    assert value(app, "kinto_attachment_size_sum") == 123.0
    assert value(app, "kinto_upload_seconds_count", kind="image") == 1
    # Misuse records nothing and never raises (a lost measurement, not a failed request).
    service.count("attachment_size")
    service.count("attachments", unique=[("other", "x")])
    assert value(app, "kinto_attachments_total", bucket="b1") == 1


@pytest.mark.parametrize(
    "setting, bad",
    [
        ("kinto.prometheus_histogram_buckets", "1 0.5"),
        ("kinto.prometheus_histogram_buckets", "fast"),
        ("kinto.prometheus_max_series_per_metric", "0"),
    ],
)
def test_bad_prometheus_settings_stop_start_up(make_app, setting, bad):
    with pytest.raises(ConfigurationError, match=setting.removeprefix("kinto.")):
        make_app({**PROMETHEUS, setting: bad})


def test_without_a_metrics_plugin_there_is_no_metrics_endpoint(make_app):
    app = make_app({})
    app.get("/v1/__metrics__", status=404)
    assert "prometheus" not in app.get("/v1/").json["capabilities"]


# --- StatsD ----------------------------------------------------------------------------------------


@pytest.fixture
def udp() -> Iterator[socket.socket]:
    listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    listener.bind(("127.0.0.1", 0))
    listener.settimeout(2)
    yield listener
    listener.close()


def received(listener: socket.socket) -> list[str]:
    """Every packet received so far (the last one waited for at most a short while)."""
    packets = []
    listener.settimeout(0.5)
    try:
        while True:
            packets.extend(listener.recv(65536).decode().split("\n"))
    except TimeoutError:
        return packets


def test_statsd_sends_requests_backends_and_users_to_the_udp_server(make_app, udp):
    port = udp.getsockname()[1]
    app = make_app({"kinto.includes": "kinto.plugins.statsd", "kinto.statsd_url": f"udp://127.0.0.1:{port}"})
    app.put_json("/v1/buckets/b1", {"data": {}}, headers=ALICE, status=201)
    packets = received(udp)
    names = {packet.split(":", 1)[0] for packet in packets}
    assert "kinto.request_summary" in names
    assert "kinto.request_duration_seconds.method.put.endpoint.bucket-object" in names
    assert "kinto.backend.storage.seconds.method.create" in names
    assert "kinto.request_summary:method.put.endpoint.bucket-object.status.201|s" in packets
    assert any(
        packet.startswith("kinto.request_duration_seconds.method.put.endpoint.bucket-object:")
        and packet.endswith("|ms")
        for packet in packets
    )
    assert "kinto.authentication:type.basicauth|s" in packets
    users = [packet for packet in packets if packet.startswith("kinto.users:")]
    assert users and all(packet.startswith("kinto.users:auth.basicauth.userid.") for packet in users)


def test_statsd_accepts_kintos_backend_setting_and_a_server_that_is_down(make_app, udp):
    port = udp.getsockname()[1]
    udp.close()  # nobody listens there any more: measurements are lost, requests are not
    app = make_app(
        {
            "kinto.includes": "kinto.plugins.statsd",
            "kinto.statsd_backend": "kinto.core.statsd",
            "kinto.statsd_url": f"udp://127.0.0.1:{port}",
        }
    )
    app.put_json("/v1/buckets/b1", {"data": {}}, headers=ALICE, status=201)
    app.get("/v1/buckets/b1", headers=ALICE, status=200)


@pytest.mark.parametrize("url", [None, "http://127.0.0.1:8125", "udp://"])
def test_statsd_without_a_usable_url_stops_start_up(make_app, url):
    settings = {"kinto.includes": "kinto.plugins.statsd"}
    if url is not None:
        settings["kinto.statsd_url"] = url
    with pytest.raises(ConfigurationError, match="statsd_url"):
        make_app(settings)


# --- Sentry ----------------------------------------------------------------------------------------


class _SentryStandIn(BaseHTTPRequestHandler):
    """Receives Sentry envelopes (``POST /api/<project>/envelope/``) and keeps their items."""

    items: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        encoding = self.headers.get("Content-Encoding", "")
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "deflate":
            body = zlib.decompress(body)
        elif encoding == "br":
            import brotli

            body = brotli.decompress(body)
        lines = body.split(b"\n")
        for header, payload in zip(lines[1::2], lines[2::2]):
            item = json.loads(header)
            if item.get("type") in ("event", "message"):
                self.items.append(json.loads(payload))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        return None


@pytest.fixture
def sentry_server() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    import sentry_sdk

    handler = type("Handler", (_SentryStandIn,), {"items": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://publickey@127.0.0.1:{server.server_address[1]}/1", handler.items
    sentry_sdk.flush(timeout=5)
    sentry_sdk.init(dsn=None)  # later tests report nowhere
    server.shutdown()
    server.server_close()


def test_sentry_receives_unhandled_errors_and_the_start_message(make_app, sentry_server):
    import sentry_sdk

    dsn, items = sentry_server
    app = make_app(
        {
            "kinto.sentry_dsn": dsn,
            "kinto.sentry_env": "tests",
            "kinto.event_listeners": "failing",
            "kinto.event_listeners.failing.use": failing_listener.__name__,
        }
    )
    response = app.put_json("/v1/buckets/b1", {"data": {}}, headers=ALICE, status=500)
    assert response.json["errno"] == 999
    sentry_sdk.flush(timeout=5)
    messages = [item.get("message") or item.get("logentry", {}).get("message") for item in items]
    assert "Running kinto " in " ".join(str(message) for message in messages)
    errors = [item for item in items if item.get("exception")]
    assert errors, items
    exception = errors[0]["exception"]["values"][-1]
    assert exception["type"] == "RuntimeError"
    assert exception["value"] == "the failing listener refuses"
    assert errors[0]["environment"] == "tests"
    assert errors[0]["request"]["method"] == "PUT"


def test_without_a_dsn_nothing_is_reported(make_app, sentry_server):
    import sentry_sdk

    _, items = sentry_server
    app = make_app(
        {
            "kinto.event_listeners": "failing",
            "kinto.event_listeners.failing.use": failing_listener.__name__,
        }
    )
    app.put_json("/v1/buckets/b1", {"data": {}}, headers=ALICE, status=500)
    sentry_sdk.flush(timeout=2)
    assert items == []


def test_a_malformed_dsn_stops_start_up(make_app):
    with pytest.raises(ConfigurationError, match="sentry_dsn"):
        make_app({"kinto.sentry_dsn": "not a dsn"})
