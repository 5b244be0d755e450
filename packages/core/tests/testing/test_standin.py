"""kinto.core.testing.standin: a test double of an HTTP service, served on 127.0.0.1."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest
from webob import Request, Response

from kinto.core.testing.standin import WSGIStandIn, json_response


class Echo(WSGIStandIn):
    def route(self, request: Request) -> Response:
        if request.path == "/missing":
            return json_response({"error": "not_found"}, status=404)
        return json_response({"method": request.method, "path": request.path})


def fetch(url: str, timeout: float = 5, method: str = "GET") -> tuple[int, str, Any]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method=method), timeout=timeout) as answer:
            return answer.status, answer.headers["Content-Type"], json.load(answer)
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], json.load(error)


def test_it_serves_its_routes_on_an_ephemeral_port_and_counts_hits():
    with Echo() as standin:
        assert standin.url.startswith("http://127.0.0.1:")
        assert fetch(standin.url + "/a")[2] == {"method": "GET", "path": "/a"}
        assert fetch(standin.url + "/missing", method="POST")[:2] == (404, "application/json")
        fetch(standin.url + "/a")
        assert standin.hits == {"/a": 2, "/missing": 1}


def test_fail_with_answers_every_request_with_the_status_until_healed():
    with Echo() as standin:
        standin.fail_with(503)
        status, _, body = fetch(standin.url + "/a")
        assert (status, body) == (503, {"code": 503, "message": "failing on purpose"})
        standin.fail_with(None)
        assert fetch(standin.url + "/a")[0] == 200


def test_stall_keeps_a_client_waiting_past_its_timeout_until_healed():
    with Echo() as standin:
        standin.stall(3.0)
        with pytest.raises(TimeoutError):
            fetch(standin.url + "/a", timeout=0.2)
        standin.stall(0)
        assert fetch(standin.url + "/a")[0] == 200


def test_once_stopped_the_port_refuses_connections_and_it_has_no_url():
    standin = Echo().start()
    url = standin.url
    standin.stop()
    with pytest.raises(urllib.error.URLError):
        fetch(url + "/a")
    with pytest.raises(RuntimeError):
        standin.url  # noqa: B018


def test_a_stand_in_must_say_how_it_answers():
    with pytest.raises(TypeError):
        WSGIStandIn()  # type: ignore[abstract]
