"""The core's tweens: what every request goes through, around the views.

``request_tween_factory`` is the outermost one (under Pyramid's ingress): the request limits (UTF-8
path, body size, read-only mode, end of service) answered before routing, CORS, the ``Backoff``,
``Retry-After`` and ``Alert`` headers, the security headers, and the request summary log line.
``transaction_tween_factory`` sits between the error views and the view: one storage and permission
transaction per request, and the resource events announced inside it and after its commit.
``kinto.core.initialize`` registers both (their dotted names here are the ones Pyramid orders by).
"""

from __future__ import annotations

import json
import logging
import random
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from datetime import datetime, timezone
from typing import Any

from pyramid import httpexceptions

from kinto.core import errors, events, logs
from kinto.core.registry import redacted_query_parameters

__all__ = ["CONTENT_SECURITY_POLICY", "SAFE_METHODS", "request_tween_factory", "transaction_tween_factory"]

logger = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: Every response of an API forbids loading, framing and base URLs. Kinto 26.5.0's text, less the
#: trailing space it sends: HTTP/1.1 clients strip it anyway, HTTP/2 clients reject the header.
CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none';"


def request_tween_factory(handler: Callable[[Any], Any], registry: Any) -> Callable[[Any], Any]:
    """Outermost tween: request limits, CORS, Backoff/Retry-After/Alert headers,
    end-of-service, read-only mode, and the request summary log line."""
    settings = registry.settings
    summary_logger = logs.get_logger(logs.REQUEST_SUMMARY_LOGGER)
    # What the summary's structlog chain checks first (filter_by_level), asked before the line is built.
    summary_enabled = logging.getLogger(logs.REQUEST_SUMMARY_LOGGER).isEnabledFor
    # Tweens are built once every include has run: the set is complete.
    redacted = frozenset(redacted_query_parameters(registry))
    cors = _CorsPolicy(settings)
    max_body = settings["max_request_body_bytes"]
    readonly = settings["readonly"]
    backoff = settings["backoff"]
    backoff_percentage = settings["backoff_percentage"]
    retry_after = str(settings["retry_after_seconds"])
    scheme, host = settings["http_scheme"], settings["http_host"]
    eos = datetime.fromisoformat(str(settings["eos"])) if settings["eos"] else None
    if eos is not None and eos.tzinfo is None:
        eos = eos.replace(tzinfo=timezone.utc)

    def tween(request: Any) -> Any:
        start = time.perf_counter()
        if scheme:
            request.scheme = scheme
        if host:
            request.host = host
        response = cors.preflight(request)
        if response is None:
            response = _guarded(request, max_body, readonly, eos) or _handle(handler, request)
        if eos is not None:
            # ``hard-eol`` once the date has passed (the request was refused with a 410), as Kinto.
            code = "hard-eol" if datetime.now(timezone.utc) >= eos else "soft-eol"
            errors.send_alert(request, code=code)
            response.headers["Alert"] = request.response.headers["Alert"]
        if backoff and (backoff_percentage is None or random.random() * 100 < backoff_percentage):
            response.headers["Backoff"] = str(backoff)
        if response.status_code in (429, 503) and "Retry-After" not in response.headers:
            response.headers["Retry-After"] = retry_after
        cors.decorate(request, response)
        _add_security_headers(response)
        if getattr(request, "parent", None) is None and summary_enabled(logging.INFO):
            _log_summary(summary_logger, request, response, start, redacted)
        return response

    return tween


def _add_security_headers(response: Any) -> None:
    """CSP and ``nosniff`` on every response (preflights, errors and batch sub-responses too);
    a view that sets its own policy (an HTML page) keeps it."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")


def _handle(handler: Callable[[Any], Any], request: Any) -> Any:
    try:
        return handler(request)
    except Exception as error:  # the excview tween answered nothing: never leak a traceback
        logger.exception("Unhandled error outside the error views")
        return _error_response(request, errors.http_error(httpexceptions.HTTPInternalServerError()), error)


def _guarded(request: Any, max_body: int, readonly: bool, eos: datetime | None) -> Any:
    if not _utf8_path(request.environ):
        # Before routing: Pyramid, WebOb and the error views all decode the path as UTF-8.
        return _error_response(
            request,
            errors.invalid("Invalid URL path."),
        )
    if eos is not None and datetime.now(timezone.utc) >= eos:
        return _error_response(
            request,
            errors.http_error(
                httpexceptions.HTTPGone(),
                errno=errors.ERRORS.SERVICE_DEPRECATED,
                message="The service has been decommissioned",
            ),
        )
    length = request.content_length
    if max_body and length is None and _length_unknown(request.environ):
        length = _buffer_bounded_body(request, max_body)
    if max_body and length is not None and length > max_body:
        response = _error_response(
            request,
            errors.http_error(
                httpexceptions.HTTPRequestEntityTooLarge(),
                errno=errors.ERRORS.REQUEST_TOO_LARGE,
                message=f"Request body larger than {max_body} bytes",
            ),
        )
        response.headers["Connection"] = "close"  # the rest of the body is left unread
        return response
    if readonly and request.method not in SAFE_METHODS:
        return _error_response(
            request,
            errors.http_error(httpexceptions.HTTPMethodNotAllowed(), message="The server is in read-only mode"),
        )
    return None


def _utf8_path(environ: dict[str, Any]) -> bool:
    """Whether the percent-decoded path is UTF-8 (WSGI hands it over as latin-1 text)."""
    try:
        environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8")
    except UnicodeError:
        return False
    return True


def _length_unknown(environ: dict[str, Any]) -> bool:
    """A body framed without ``Content-Length`` (chunked, or up to the end of the connection)."""
    return "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower() or bool(environ.get("wsgi.input_terminated"))


def _buffer_bounded_body(request: Any, max_body: int) -> int:
    """Read a body of unknown length, never more than ``max_body + 1`` bytes; return how much was read.

    Within the limit, the body is kept as ``request.body`` (with its length);
    beyond it, reading stops and the caller refuses the request.
    """
    stream = request.environ["wsgi.input"]
    chunks: list[bytes] = []
    size = 0
    while size <= max_body:
        chunk = stream.read(min(65536, max_body + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size <= max_body:
        request.body = b"".join(chunks)
    return size


def _error_response(request: Any, error: httpexceptions.HTTPException, cause: Exception | None = None) -> Any:
    body = getattr(error, "kinto_error", {})
    request.errno = body.get("errno")
    info = request.registry.settings["error_info_link"] if error.code >= 500 else None
    if info and "info" not in body:
        body = {**body, "info": info}
        error.text = json.dumps(body)
    return error


def _log_summary(summary_logger: Any, request: Any, response: Any, start: float, redacted: frozenset[str]) -> None:
    try:
        uid = request.prefixed_userid
        identity = request.kinto_identity
    except Exception:
        uid = identity = None
    # Kinto's ``time``: local time to the millisecond, ISO 8601 without an offset.
    now = datetime.fromtimestamp(int(time.time() * 1000) / 1000)
    try:
        summary_logger.info(
            logs.REQUEST_SUMMARY_EVENT,
            method=request.method,
            path=request.path,
            querystring=logs.redact_query(request.query_string, redacted) or None,
            code=response.status_code,
            t=int((time.perf_counter() - start) * 1000),
            time=now.isoformat(),
            rid=request.headers.get(logs.REQUEST_ID_HEADER) or str(uuid.uuid4()),
            uid=uid,
            authn_type=identity.policy_name if identity else None,
            errno=getattr(request, "errno", None) or 0,
            agent=request.user_agent,
            lang=request.headers.get("Accept-Language"),
        )
    except Exception:  # logging must never break a request
        logger.debug("Could not log the request summary", exc_info=True)


class _CorsPolicy:
    """CORS for every response (errors included), preflights answered here."""

    expose_headers = (
        "Alert, Backoff, Retry-After, ETag, Last-Modified, Next-Page, Total-Objects, Total-Records, "
        "Content-Length, Content-Type, Cache-Control, Expires, Pragma"
    )

    def __init__(self, settings: dict[str, Any]) -> None:
        self.origins = set(settings["cors_origins"])
        self.max_age = str(settings["cors_max_age_seconds"])

    def allowed(self, origin: str | None) -> bool:
        return bool(origin) and ("*" in self.origins or origin in self.origins)

    def preflight(self, request: Any) -> Any:
        if request.method != "OPTIONS" or "Access-Control-Request-Method" not in request.headers:
            return None
        origin = request.headers.get("Origin")
        response = request.response
        response.status_code = 200
        if self.allowed(origin):
            response.headers["Access-Control-Allow-Methods"] = request.headers["Access-Control-Request-Method"]
            requested = request.headers.get("Access-Control-Request-Headers")
            if requested:
                response.headers["Access-Control-Allow-Headers"] = requested
            response.headers["Access-Control-Max-Age"] = self.max_age
        return response

    def decorate(self, request: Any, response: Any) -> None:
        origin = request.headers.get("Origin")
        if not self.allowed(origin):
            return
        response.headers["Access-Control-Allow-Origin"] = "*" if "*" in self.origins else origin
        response.headers["Access-Control-Expose-Headers"] = self.expose_headers
        if "*" not in self.origins:
            response.headers["Vary"] = "Origin"


class _Rollback(Exception):
    def __init__(self, response: Any) -> None:
        self.response = response


def transaction_tween_factory(handler: Callable[[Any], Any], registry: Any) -> Callable[[Any], Any]:
    """One transaction per request around the storage and permission backends.

    Commits when the view returns a response below 500; rolls back when it
    raises (the error views then answer) or answers 5xx. ``ResourceChanged``
    is announced inside the transaction, ``AfterResourceChanged`` after the
    commit. Batch sub-requests (``request.parent`` set) join their parent's.
    """

    def tween(request: Any) -> Any:
        if getattr(request, "parent", None) is not None:
            return handler(request)
        write = request.method not in SAFE_METHODS
        backends = [getattr(registry, kind, None) for kind in ("storage", "permission")]
        try:
            with ExitStack() as stack:
                for backend in backends:
                    if backend is not None:
                        stack.enter_context(backend.transaction(write=write))
                response = handler(request)
                if response.status_code >= 500:
                    raise _Rollback(response)
                gathered = events.emit_changes(request)
        except _Rollback as rollback:
            events.discard_events(request)
            return rollback.response
        except BaseException:
            events.discard_events(request)
            raise
        events.emit_after_commit(request, gathered)
        return response

    return tween
