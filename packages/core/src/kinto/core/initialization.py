"""What ``kinto.core.initialize`` sets up: settings, directives, backends,
security, tweens, error views, and the core's own endpoints."""

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
from pyramid.events import ApplicationCreated
from pyramid.exceptions import ConfigurationError
from pyramid.interfaces import IRequestFactory
from pyramid.renderers import JSON
from pyramid.tweens import EXCVIEW, INGRESS, MAIN

from kinto.core import errors, events, logs, metrics
from kinto.core.authentication import build_policies
from kinto.core.authorization import SecurityPolicy, setup_request_identity
from kinto.core.backends import KINDS
from kinto.core.jsonbody import parse_request_body
from kinto.core.registry import (
    add_api_capability,
    add_backend,
    add_heartbeat,
    add_migration,
    add_redacted_query_parameters,
    expose_kinto_names,
    loaded_backends,
    migrations,
    redacted_query_parameters,
    set_log_renderer,
    set_route_prefix,
)
from kinto.core.secrets import check_secret
from kinto.core.sentry import setup_sentry
from kinto.core.settings import DEFAULT_SETTINGS, apply_defaults

__all__ = ["Unhealthy", "includeme", "initialize", "load_default_settings", "migrate"]

logger = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_SETTINGS_APPLIED = "kinto.core.settings_applied"
MEMORY_BACKENDS = {kind: f"kinto.core.{kind}.memory" for kind in KINDS}
#: Every response of an API forbids loading, framing and base URLs. Kinto 26.5.0's text, less the
#: trailing space it sends: HTTP/1.1 clients strip it anyway, HTTP/2 clients reject the header.
CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none';"


# --- settings -----------------------------------------------------------------------------------


def load_default_settings(config: Any, default_settings: dict[str, Any]) -> None:
    """Apply ``default_settings`` to the application's settings, with the
    environment override rule of ``kinto.core.settings`` (for plugins)."""
    settings = config.get_settings()
    apply_defaults(settings, default_settings)
    config.add_settings(settings)


def _apply_core_settings(config: Any, extra_defaults: dict[str, Any] | None = None) -> dict[str, Any]:
    settings = config.get_settings()
    if settings.get(_SETTINGS_APPLIED):
        if extra_defaults:
            apply_defaults(settings, extra_defaults)
        return settings
    apply_defaults(settings, {**DEFAULT_SETTINGS, **(extra_defaults or {})}, include_unknown=True)
    settings[_SETTINGS_APPLIED] = True
    _validate_core_settings(settings)
    return settings


def _validate_core_settings(settings: dict[str, Any]) -> None:
    check_secret(settings)
    version = str(settings["http_api_version"])
    major = version.split(".")[0]
    if not major.isdigit():
        raise ConfigurationError(f"Invalid value for setting 'kinto.http_api_version': {version!r} (expected e.g. 1.0)")
    for key in ("backoff_percentage",):
        value = settings.get(key)
        if value not in (None, "") and not str(value).isdigit():
            raise ConfigurationError(f"Invalid value for setting 'kinto.{key}': {value!r} is not an integer")
    if settings.get("eos"):
        try:
            datetime.fromisoformat(str(settings["eos"]))
        except ValueError:
            raise ConfigurationError(f"Invalid value for setting 'kinto.eos': {settings['eos']!r} (ISO date)") from None
    for key, value in settings.items():
        # ``<resource>_cache_expires_seconds`` and the server's per-bucket/collection spellings
        # are read on each request: a value that is not a number must stop start-up, not answer 500.
        if key.endswith("cache_expires_seconds") and value not in (None, "") and not _is_integer(value):
            raise ConfigurationError(f"Invalid value for setting {key!r}: {value!r} is not an integer")


def _is_integer(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    try:
        int(value)
    except (TypeError, ValueError):
        return False
    return True


def api_prefix(settings: dict[str, Any]) -> str:
    return "v" + str(settings["http_api_version"]).split(".")[0]


# --- heartbeats and migrations ------------------------------------------------------------------


class Unhealthy(Exception):
    """Raised by a heartbeat check to say why it fails: ``__heartbeat__`` shows the reason under ``reasons``."""


def migrate(registry: Any, dry_run: bool = False) -> list[str]:
    """Create or upgrade every backend's schema, then run the plugins' migrations."""
    done = []
    for kind in KINDS:
        backend = getattr(registry, kind, None)
        if backend is not None:
            backend.initialize_schema(dry_run=dry_run)
            done.append(kind)
    for name, fn in migrations(registry).items():
        fn(registry, dry_run=dry_run)
        done.append(name)
    return done


# --- backends -----------------------------------------------------------------------------------


def setup_backends(config: Any) -> None:
    """Load the storage, permission and cache backends the settings name
    (the memory ones when a setting is empty, with a warning) onto the
    registry, each with its heartbeat.

    A backend that cannot load fails start-up with a ``ConfigurationError``
    naming its ``kinto.<kind>_backend`` setting (see ``load_backend``).
    """
    from kinto.core.backends import load_backend

    settings = config.get_settings()
    defaulted = []
    for kind in KINDS:
        if not settings[f"{kind}_backend"]:
            settings[f"{kind}_backend"] = settings[f"kinto.{kind}_backend"] = MEMORY_BACKENDS[kind]
            defaulted.append(kind)
        backend = load_backend(config, kind)
        # Now, not at commit: plugins included next read ``registry.storage`` in their includeme.
        loaded_backends(config.registry)[kind] = backend
        config.add_heartbeat(kind, _backend_heartbeat(backend))
    if defaulted:
        logger.warning(
            "No %s backend configured: using memory backends, nothing will persist",
            "/".join(defaulted),
        )


def _measure_backends(event: Any) -> None:
    """Once every include ran (so a metrics plugin has registered its service), time the
    backends' methods and count cache hits and misses, as Kinto does; nothing without a service."""
    registry = event.app.registry
    service = metrics.get_metrics_service(registry)
    if not metrics.is_measuring(service):
        return
    for kind in KINDS:
        backend = getattr(registry, kind, None)
        if backend is not None:
            metrics.watch_execution_time(service, backend, prefix="backend")
    cache = getattr(registry, "cache", None)
    if cache is not None and callable(getattr(cache, "set_metrics_backend", None)):
        cache.set_metrics_backend(service)


def _backend_heartbeat(backend: Any) -> Callable[[Any], bool]:
    def check(request: Any) -> bool:
        if not backend.heartbeat():
            return False
        # A backend written for Kinto has no schema check.
        problem = getattr(backend, "schema_mismatch", lambda: None)()
        if problem:
            raise Unhealthy(problem)
        return True

    return check


# --- request helpers ----------------------------------------------------------------------------


def _bound_data(request: Any) -> dict[str, Any]:
    return {}


def _json_body(request: Any) -> Any:
    """``request.json_body``: the client's JSON within the limits of :mod:`kinto.core.jsonbody`."""
    return parse_request_body(request)


# --- tweens -------------------------------------------------------------------------------------


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
    backoff_percentage = int(settings["backoff_percentage"]) if settings.get("backoff_percentage") else None
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
                httpexceptions.HTTPGone(), errno=errors.ERRORS.SERVICE_DEPRECATED, message="The service has been "
                "decommissioned"
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
    info = request.registry.settings["error_info_link"]
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


# --- setup --------------------------------------------------------------------------------------


def setup_logging(config: Any) -> None:
    settings = config.get_settings()
    name = settings["logging_renderer"]
    try:
        renderer = config.maybe_dotted(name)
    except (ImportError, AttributeError) as error:
        raise ConfigurationError(f"Setting 'kinto.logging_renderer = {name}': cannot import it ({error})") from error
    try:
        built = logs.build_renderer(renderer, settings)
    except Exception as error:
        raise ConfigurationError(f"Setting 'kinto.logging_renderer = {name}': {error}") from error
    set_log_renderer(config.registry, logs.setup_logging(built))


def setup_security(config: Any) -> None:
    settings = config.get_settings()
    policies = build_policies(config)
    finder_name = settings["multiauth.groupfinder"]
    finder = config.maybe_dotted(finder_name) if finder_name else None
    config.set_security_policy(SecurityPolicy(policies, groupfinder=finder))
    setup_request_identity(config, policies)


def setup_version_redirect(config: Any) -> None:
    """Unprefixed URLs answer ``307`` to the same path under ``/v1``."""
    settings = config.get_settings()
    if not settings["version_prefix_redirect_enabled"]:
        return
    prefix = api_prefix(settings)
    ttl = settings["version_prefix_redirect_ttl_seconds"]

    def redirect(request: Any) -> Any:
        querystring = f"?{request.query_string}" if request.query_string else ""
        response = httpexceptions.HTTPTemporaryRedirect(f"/{prefix}{request.path}{querystring}")
        if ttl >= 0:
            response.cache_expires(ttl)
        return response

    config.add_route("redirect_to_version", r"/{path:(?!v[0-9]+(/|$))[^\r\n]*}")
    config.add_view(redirect, route_name="redirect_to_version", permission="__no_permission_required__")


def _bake_request_extensions(event: Any) -> None:
    """Give every request its reified properties through one class, made once.

    Pyramid applies ``add_request_method(..., reify=True)`` properties by creating a new class for
    each request (``InstancePropertyHelper``): a cost paid per request, sub-requests included, and
    one more cyclic object for the garbage collector each time. Once the application is made, with
    every include's properties known, they go on one subclass of the request factory instead, which
    becomes the factory; Pyramid then has nothing left to apply. A factory that is not a class (a
    function) is left to Pyramid's way.
    """
    router = event.app
    extensions = getattr(router, "request_extensions", None)
    factory = getattr(router, "request_factory", None)
    if extensions is None or not extensions.descriptors or not isinstance(factory, type):
        return
    attributes = {"__module__": factory.__module__, **extensions.descriptors}
    baked = type(factory.__name__, (factory,), attributes)
    router.request_factory = baked
    router.registry.registerUtility(baked, IRequestFactory)
    extensions.descriptors = {}


def includeme(config: Any) -> None:
    """Set the core up on ``config`` (``initialize`` calls this; so may ``config.include``)."""
    settings = _apply_core_settings(config)
    config.include("cornice")
    expose_kinto_names(config.registry)
    config.add_directive("add_api_capability", add_api_capability)
    config.add_directive("add_heartbeat", add_heartbeat)
    config.add_directive("add_migration", add_migration)
    config.add_directive("add_redacted_query_parameters", add_redacted_query_parameters)
    config.add_directive("add_backend", add_backend)

    config.add_renderer("json", JSON(separators=(",", ":")))
    config.add_request_method(_bound_data, "bound_data", reify=True)
    config.add_request_method(_json_body, "json_body", reify=True)
    config.add_request_method(_json_body, "json", reify=True)
    # Kinto's plugins announce their changes with request.notify_resource_event(...).
    config.add_request_method(events.notify_resource_event, "notify_resource_event")
    config.add_subscriber(_bake_request_extensions, ApplicationCreated)

    setup_logging(config)
    setup_sentry(config)
    setup_security(config)
    setup_backends(config)
    config.add_subscriber(_measure_backends, ApplicationCreated)
    config.add_subscriber_predicate("for_actions", events.ActionsPredicate)
    config.add_subscriber_predicate("for_resources", events.ResourcesPredicate)
    events.setup_listeners(config)

    config.add_tween("kinto.core.initialization.request_tween_factory", under=INGRESS)
    # Outside the request tween: it measures the answer clients get, errors and CORS included.
    config.add_tween(
        "kinto.core.metrics.request_tween_factory",
        under=INGRESS,
        over="kinto.core.initialization.request_tween_factory",
    )
    config.add_tween("kinto.core.initialization.transaction_tween_factory", over=MAIN, under=EXCVIEW)

    from kinto.core.views import errors as error_views

    error_views.setup(config)
    setup_version_redirect(config)
    config.route_prefix = api_prefix(settings)
    # Kinto's ``registry.route_prefix``: plugins build prefixed URIs with it (``/{route_prefix}/buckets/...``).
    set_route_prefix(config.registry, config.route_prefix)
    config.scan("kinto.core.views", ignore=["kinto.core.views.errors"])


def _migrate_on_startup(event: Any) -> None:
    """``kinto.migrate_on_startup``: run the migrations once every include is configured."""
    done = migrate(event.app.registry)
    logger.info("Migrated on start-up: %s", ", ".join(done) or "nothing")


def initialize(
    config: Any,
    version: str | None = None,
    project_name: str = "",
    default_settings: dict[str, Any] | None = None,
    settings_prefix: str = "kinto",
) -> None:
    """Set up a kinto.core application on ``config``.

    Reads and validates the settings (core defaults, ``default_settings``,
    environment overrides), sets up backends, security, CORS, error format,
    logging and the ``/v1`` prefix, then includes every package listed in
    ``kinto.includes``. Views added afterwards live under ``/v1``.
    """
    extra = dict(default_settings or {})
    if version is not None:
        extra.setdefault("project_version", str(version))
    if project_name:
        extra.setdefault("project_name", project_name)
    settings = _apply_core_settings(config, extra)
    if not settings["project_name"]:
        settings["project_name"] = settings["kinto.project_name"] = project_name or "kinto"
    config.include("kinto.core")
    config.route_prefix = api_prefix(settings)
    for name in settings["includes"]:
        config.include(name)
    if settings["migrate_on_startup"]:
        config.add_subscriber(_migrate_on_startup, ApplicationCreated)
    config.commit()
