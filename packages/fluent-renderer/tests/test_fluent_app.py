"""Real requests to a Kinto-Core application configured with the renderer."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import webtest
from kinto.core.registry import log_renderer
from kinto.core.testing import basic_auth_header, make_app

from kinto_fluent import FluentRenderer


def renderer_of(app: webtest.TestApp) -> FluentRenderer:
    renderer = log_renderer(app.app.registry).renderer
    assert isinstance(renderer, FluentRenderer)
    return renderer


@pytest.fixture(autouse=True)
def request_summaries_are_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="kinto")
    caplog.set_level(logging.INFO, logger="request.summary")


@pytest.fixture
def app_factory() -> Iterator[Callable[..., webtest.TestApp]]:
    apps: list[webtest.TestApp] = []

    def make(settings: dict[str, Any]) -> webtest.TestApp:
        app = make_app(
            {
                "kinto.logging_renderer": "kinto_fluent.FluentRenderer",
                "kinto_fluent.retry_interval_seconds": 0.05,
                **settings,
            }
        )
        apps.append(app)
        return app

    yield make
    for app in apps:
        renderer_of(app).close(timeout=1)


def summaries(event) -> bool:
    return event.record.get("event") == "request.summary"


def test_a_request_arrives_as_one_record_with_the_request_summary_fields(fluentd, app_factory):
    app = app_factory(fluentd.settings())

    app.get("/v1/?_since=1", headers={"User-Agent": "pytest-agent", "Accept-Language": "fr-FR"})

    [event] = fluentd.receiver.wait_for(1, summaries)
    record = dict(event.record)
    assert isinstance(record.pop("t"), int)
    assert isinstance(record.pop("timestamp"), str)
    assert isinstance(record.pop("hostname"), str)
    assert isinstance(record.pop("pid"), int)
    assert isinstance(record.pop("time"), str)
    assert isinstance(record.pop("rid"), str)
    assert event.tag == "kinto"
    assert record == {
        "event": "request.summary",
        "level": "info",
        "logger": "request.summary",
        "method": "GET",
        "path": "/v1/",
        "querystring": "_since=1",
        "code": 200,
        "errno": 0,
        "uid": None,
        "authn_type": None,
        "agent": "pytest-agent",
        "lang": "fr-FR",
    }


def test_an_error_response_is_recorded_with_its_errno(fluentd, app_factory):
    app = app_factory(fluentd.settings())

    app.get("/v1/unknown", status=404)

    [event] = fluentd.receiver.wait_for(1, summaries)
    assert (event.record["path"], event.record["code"], event.record["errno"]) == ("/v1/unknown", 404, 111)


def test_an_authenticated_request_is_recorded_with_the_user_id(fluentd, app_factory):
    app = app_factory(fluentd.settings(**{"multiauth.policies": "basicauth", "userid_hmac_secret": "secret"}))
    user_id = app.get("/v1/", headers=basic_auth_header("alice", "password")).json["user"]["id"]

    [event] = fluentd.receiver.wait_for(1, summaries)
    assert event.record["uid"] == user_id
    assert user_id.startswith("basicauth:")


def test_every_request_is_one_record(fluentd, app_factory):
    app = app_factory(fluentd.settings())

    for number in range(30):
        app.get(f"/v1/?n={number}")

    events = fluentd.receiver.wait_for(30, summaries)
    assert [event.record["querystring"] for event in events] == [f"n={number}" for number in range(30)]


def test_the_local_log_still_gets_the_classic_line(fluentd, app_factory, caplog):
    app = app_factory(fluentd.settings())

    app.get("/v1/", headers={"User-Agent": "pytest-agent"})

    lines = [record.getMessage() for record in caplog.records if record.name == "request.summary"]
    assert len(lines) == 1
    assert lines[0].startswith("GET /v1/ 200 (")
    assert "agent=pytest-agent" in lines[0]


def test_with_fluentd_down_requests_succeed_and_their_records_arrive_when_it_is_back(receiver, app_factory):
    app = app_factory({"kinto_fluent.host": "127.0.0.1", "kinto_fluent.port": receiver.port})
    receiver.stop()

    statuses = [app.get(f"/v1/?n={number}").status_code for number in range(20)]
    receiver.start()

    assert statuses == [200] * 20
    events = receiver.wait_for(20, summaries)
    assert [event.record["querystring"] for event in events] == [f"n={number}" for number in range(20)]


def test_with_fluentd_stalled_requests_still_succeed(receiver, app_factory, caplog):
    app = app_factory(
        {"kinto_fluent.host": "127.0.0.1", "kinto_fluent.port": receiver.port, "kinto_fluent.queue_size": 5}
    )
    app.get("/v1/")
    receiver.wait_for(1, summaries)
    receiver.pause()

    statuses = {app.get("/v1/", headers={"User-Agent": "x" * 4000}).status_code for _ in range(2000)}
    receiver.resume()

    assert statuses == {200}
    assert renderer_of(app).dropped > 0
    assert len([record for record in caplog.records if record.name == "kinto_fluent"]) == 1


def test_the_historical_dotted_path_configures_the_same_renderer(fluentd, app_factory):
    app = app_factory({**fluentd.settings(), "kinto.logging_renderer": "cliquet_fluent.FluentRenderer"})

    app.get("/v1/")

    assert len(fluentd.receiver.wait_for(1, summaries)) == 1
    assert isinstance(renderer_of(app), FluentRenderer)


def test_the_tag_set_in_the_environment_wins(fluentd, app_factory, monkeypatch):
    monkeypatch.setenv("KINTO_FLUENT_TAG", "kinto.from-env")
    app = app_factory({**fluentd.settings(), "kinto_fluent.tag": "kinto.from-file"})

    app.get("/v1/")

    assert [event.tag for event in fluentd.receiver.wait_for(1, summaries)] == ["kinto.from-env"]
