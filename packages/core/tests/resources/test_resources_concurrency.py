"""Lost updates: concurrent If-Match PATCH loops through a real threaded WSGI server.

Each request runs in its own thread and transaction; every acknowledged (200)
increment of the shared counter must be in the final value.
"""

import http.client
import json
import threading
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest

from .conftest import ALICE

WORKERS = 2
INCREMENTS_PER_WORKER = 25


class ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def server(app):
    httpd = make_server("127.0.0.1", 0, app.app, server_class=ThreadingServer, handler_class=QuietHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_port
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def request(port, method, path, body=None, headers=None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        payload = json.dumps(body) if body is not None else None
        all_headers = {**ALICE, "Content-Type": "application/json", **(headers or {})}
        connection.request(method, path, body=payload, headers=all_headers)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), json.loads(response.read() or b"null")
    finally:
        connection.close()


def increment_loop(port, path, outcome):
    """Read, then PATCH counter+1 with If-Match, until INCREMENTS_PER_WORKER are acknowledged."""
    while outcome["acknowledged"] < INCREMENTS_PER_WORKER:
        status, headers, body = request(port, "GET", path)
        if status != 200:
            outcome["unexpected"].append((status, body))
            return
        new_value = body["data"]["counter"] + 1
        status, _, body = request(port, "PATCH", path, {"data": {"counter": new_value}}, {"If-Match": headers["ETag"]})
        if status == 200:
            outcome["acknowledged"] += 1
        elif status == 412:
            outcome["conflicts"] += 1
        else:
            outcome["unexpected"].append((status, body))
            return


def test_no_acknowledged_if_match_update_is_lost(app, server, create):
    thing = create("/v1/things", {"counter": 0})
    path = f"/v1/things/{thing['id']}"
    outcomes = [{"acknowledged": 0, "conflicts": 0, "unexpected": []} for _ in range(WORKERS)]
    threads = [threading.Thread(target=increment_loop, args=(server, path, outcome)) for outcome in outcomes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [outcome["unexpected"] for outcome in outcomes] == [[]] * WORKERS
    acknowledged = sum(outcome["acknowledged"] for outcome in outcomes)
    assert acknowledged == WORKERS * INCREMENTS_PER_WORKER
    assert app.get(path, headers=ALICE).json["data"]["counter"] == acknowledged
