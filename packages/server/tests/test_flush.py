"""kinto.plugins.flush: ``POST /__flush__`` empties every backend and announces ServerFlushed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import webtest
from kinto.core.events import ServerFlushed

from .conftest import ALICE, BOB, backend_settings, build_app, close_clients, flush, needs_application_in_process


@pytest.fixture
def flushable(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[webtest.TestApp, list[Any]]]:
    needs_application_in_process("settings of its own")
    app = build_app(
        {**backend_settings(backend, tmp_path_factory.mktemp("flush")), "kinto.includes": "kinto.plugins.flush"}
    )
    flush(app)
    announced: list[Any] = []
    app.app.registry.registerHandler(announced.append, (ServerFlushed,))
    yield app, announced
    close_clients(app)


def test_flush_empties_every_object_and_permission(flushable: tuple[webtest.TestApp, list[Any]]) -> None:
    app, _ = flushable
    app.put_json("/v1/buckets/b1", {"data": {}, "permissions": {"read": ["system.Everyone"]}}, headers=ALICE)
    app.put_json("/v1/buckets/b1/collections/c1", {"data": {}}, headers=ALICE)
    app.put_json("/v1/buckets/b1/collections/c1/records/r1", {"data": {"n": 1}}, headers=ALICE)
    app.put_json("/v1/buckets/b2", {"data": {}}, headers=BOB)
    assert app.get("/v1/buckets/b1/collections/c1/records/r1").json["data"]["n"] == 1  # anonymous reader

    response = app.post("/v1/__flush__", status=202)

    assert response.json == {}
    # Nothing left: not the objects, not the permission that let anybody read b1.
    assert app.get("/v1/buckets/b1/collections/c1/records/r1", status=401).json["code"] == 401
    assert app.get("/v1/buckets", headers=ALICE).json["data"] == []
    assert app.get("/v1/buckets", headers=BOB).json["data"] == []
    # The server is usable again right away.
    app.put_json("/v1/buckets/b1", {"data": {}}, headers=BOB, status=201)


def test_flush_announces_server_flushed_once(flushable: tuple[webtest.TestApp, list[Any]]) -> None:
    app, announced = flushable
    app.post("/v1/__flush__", status=202)
    assert len(announced) == 1
    assert isinstance(announced[0], ServerFlushed)
    assert announced[0].request.path == "/v1/__flush__"


def test_flush_is_a_capability(flushable: tuple[webtest.TestApp, list[Any]]) -> None:
    app, _ = flushable
    assert "flush_endpoint" in app.get("/v1/").json["capabilities"]


def test_without_the_plugin_there_is_no_flush_endpoint(app: webtest.TestApp) -> None:
    needs_application_in_process("settings of its own")
    app.put_json("/v1/buckets/b1", {"data": {}}, headers=ALICE)
    app.post("/v1/__flush__", status=404)
    assert "flush_endpoint" not in app.get("/v1/").json["capabilities"]
    app.get("/v1/buckets/b1", headers=ALICE, status=200)


def test_kintos_older_setting_enables_it_too(backend: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    needs_application_in_process("settings of its own")
    app = build_app(
        {**backend_settings(backend, tmp_path_factory.mktemp("flush-setting")), "kinto.flush_endpoint_enabled": "true"}
    )
    try:
        flush(app)
        app.put_json("/v1/buckets/b1", {"data": {}}, headers=ALICE)
        app.post("/v1/__flush__", status=202)
        app.get("/v1/buckets/b1", headers=ALICE, status=403)
    finally:
        close_clients(app)
