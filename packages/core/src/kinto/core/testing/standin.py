"""A stand-in for an HTTP service a plugin talks to, served on 127.0.0.1 for its tests.

A plugin's tests replace the remote service (an OAuth server, an OpenID provider...) with a
subclass of ``WSGIStandIn`` that implements ``route(request) -> Response`` (WebOb objects). The
base serves it from a thread on an ephemeral port and gives every stand-in the same controls:

* ``start()``/``stop()``, or ``with``: once stopped, the port refuses connections;
* ``url``: ``http://127.0.0.1:<port>``;
* ``hits``: requests counted per path, to tell a cached answer from a remote one;
* ``fail_with(503)``: every request gets that status (``None`` heals), before ``route`` runs;
  ``failure_response(status)`` says what body comes with it;
* ``stall(seconds)``: every answer waits that long (0 heals), for clients' timeouts.

::

    class Provider(WSGIStandIn):
        def route(self, request):
            return json_response({"active": True})

    with Provider() as provider:
        settings = {"myplugin.url": provider.url}

``kinto_fxa.testing.OAuthStandIn`` and ``kinto.plugins.openid.testing.OIDCStandIn`` are built on it.
"""

from __future__ import annotations

import abc
import collections
import json
import socketserver
import threading
import time
from typing import TYPE_CHECKING, Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from webob import Request, Response

if TYPE_CHECKING:  # Self is in typing from Python 3.11 only
    from typing_extensions import Self

__all__ = ["WSGIStandIn", "json_response"]


def json_response(body: Any, status: int = 200) -> Response:
    """A WebOb response holding ``body`` as JSON (UTF-8)."""
    return Response(json.dumps(body), status=status, content_type="application/json", charset="utf-8")


class _ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass  # the tests' output is no place for an access log


class WSGIStandIn(abc.ABC):
    """An HTTP service on 127.0.0.1 for tests (see the module docstring)."""

    #: The name of the serving thread (seen in a test's thread dump).
    thread_name = "stand-in"

    def __init__(self) -> None:
        self.hits: collections.Counter[str] = collections.Counter()
        self._failure: int | None = None
        self._delay = 0.0
        self._httpd: WSGIServer | None = None

    @abc.abstractmethod
    def route(self, request: Request) -> Response:
        """The answer to ``request`` when no fault is injected."""

    def failure_response(self, status: int) -> Response:
        """The answer to every request while ``fail_with(status)`` is on."""
        return json_response({"code": status, "message": "failing on purpose"}, status=status)

    def start(self) -> Self:
        self._httpd = make_server(
            "127.0.0.1", 0, self._wsgi, server_class=_ThreadingWSGIServer, handler_class=_QuietHandler
        )
        # A short poll interval: ``stop()`` waits for it, and tests stop stand-ins often.
        threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, name=self.thread_name, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        """Close the port: connections are refused from now on."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``; ``RuntimeError`` when not running."""
        if self._httpd is None:
            raise RuntimeError("The stand-in is not running")
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def fail_with(self, status: int | None) -> None:
        """Answer every request with ``status`` (``None`` to heal)."""
        self._failure = status

    def stall(self, seconds: float) -> None:
        """Wait ``seconds`` before every answer (0 to heal)."""
        self._delay = seconds

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        self.hits[request.path] += 1
        if self._delay:
            time.sleep(self._delay)
        failure = self._failure
        response = self.failure_response(failure) if failure is not None else self.route(request)
        return response(environ, start_response)
