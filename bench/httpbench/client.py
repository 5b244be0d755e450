"""A small keep-alive HTTP client for seeding the servers and probing each workload once."""

from __future__ import annotations

import base64
import http.client
import json
from dataclasses import dataclass
from typing import Any

USER = "bench"
PASSWORD = "bench"
AUTHORIZATION = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]
    body: Any


class ProbeFailed(AssertionError):
    """A server answered a workload's request differently from what the workload measures."""


class Client:
    """JSON over one persistent connection to ``127.0.0.1:port``."""

    def __init__(self, port: int, authenticated: bool = True, timeout: float = 60.0) -> None:
        self.port = port
        self.authenticated = authenticated
        self.timeout = timeout
        self._connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)

    def request(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Response:
        """Send one request; the body is JSON-encoded, the answer JSON-decoded when it is JSON."""
        all_headers = {"Accept": "application/json", **(headers or {})}
        if self.authenticated:
            all_headers["Authorization"] = AUTHORIZATION
        payload = None
        if body is not None:
            payload = body if isinstance(body, bytes) else json.dumps(body).encode()
            all_headers["Content-Type"] = "application/json"
        try:
            answer = self._send(method, path, payload, all_headers)
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            # The server closed the idle keep-alive connection: the request never reached it, send it again.
            answer = self._send(method, path, payload, all_headers)
        raw = answer.read()
        response_headers = {name.lower(): value for name, value in answer.getheaders()}
        decoded: Any = raw
        if "json" in response_headers.get("content-type", ""):
            decoded = json.loads(raw)
        return Response(answer.status, response_headers, decoded)

    def _send(self, method: str, path: str, payload: bytes | None, headers: dict[str, str]) -> http.client.HTTPResponse:
        try:
            self._connection.request(method, path, body=payload, headers=headers)
            return self._connection.getresponse()
        except (http.client.HTTPException, OSError):
            self._connection.close()
            self._connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
            raise

    def expect(
        self, status: int, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> Any:
        """Send one request and return its decoded body; raise :class:`ProbeFailed` on another status."""
        response = self.request(method, path, body, headers)
        if response.status != status:
            raise ProbeFailed(f"{method} {path}: expected {status}, got {response.status}: {str(response.body)[:300]}")
        return response.body

    def close(self) -> None:
        self._connection.close()
