"""What ``kinto.core.initialize`` sets up, in order: settings, directives, request methods,
logging, security, backends, listeners, tweens, error views, the version redirect and the core's own
endpoints.

Each concern lives in its own module; this one applies and checks the core's settings once, wires
the rest, and keeps Kinto's names importable
from here: ``load_default_settings`` and ``api_prefix`` (:mod:`kinto.core.settings`),
``setup_backends``, ``migrate`` (:mod:`kinto.core.backends`), ``Unhealthy``
(:mod:`kinto.core.views.heartbeat`), ``request_tween_factory`` and ``transaction_tween_factory``
(:mod:`kinto.core.tweens`).
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from datetime import datetime
from typing import Any

from pyramid import httpexceptions
from pyramid.events import ApplicationCreated
from pyramid.exceptions import ConfigurationError
from pyramid.interfaces import IRequestFactory
from pyramid.renderers import JSON
from pyramid.tweens import EXCVIEW, INGRESS, MAIN

from kinto.core import events, logs
from kinto.core.authentication import build_policies
from kinto.core.authorization import SecurityPolicy, setup_request_identity
from kinto.core.backends import measure_backends, migrate, migrate_on_startup, setup_backends
from kinto.core.jsonbody import parse_request_body
from kinto.core.registry import (
    add_api_capability,
    add_backend,
    add_heartbeat,
    add_migration,
    add_redacted_query_parameters,
    expose_kinto_names,
    set_log_renderer,
    set_route_prefix,
)
from kinto.core.secrets import check_secret
from kinto.core.sentry import setup_sentry
from kinto.core.settings import DEFAULT_SETTINGS, api_prefix, apply_defaults, load_default_settings
from kinto.core.tweens import request_tween_factory, transaction_tween_factory
from kinto.core.views.heartbeat import Unhealthy

__all__ = [
    "Unhealthy",
    "api_prefix",
    "includeme",
    "initialize",
    "load_default_settings",
    "migrate",
    "request_tween_factory",
    "setup_backends",
    "setup_logging",
    "setup_security",
    "setup_version_redirect",
    "transaction_tween_factory",
]


_CORE_SETTINGS_APPLIED = "kinto.core.settings_applied"


def _apply_core_settings(config: Any, extra_defaults: Mapping[str, Any] | None = None) -> MutableMapping[str, Any]:
    """The application's settings with the core's defaults (and ``extra_defaults``) applied.

    The first call applies every default, keeps unknown keys (both spellings) and validates what is
    read on each request, failing start-up with a ``ConfigurationError`` naming the setting; later
    calls only apply ``extra_defaults``.
    """
    settings = config.get_settings()
    if settings.get(_CORE_SETTINGS_APPLIED):
        if extra_defaults:
            apply_defaults(settings, extra_defaults)
        return settings
    apply_defaults(settings, {**DEFAULT_SETTINGS, **(extra_defaults or {})}, include_unknown=True)
    settings[_CORE_SETTINGS_APPLIED] = True
    _validate_core_settings(settings)
    return settings


def _validate_core_settings(settings: Mapping[str, Any]) -> None:
    check_secret(settings)
    version = str(settings["http_api_version"])
    major = version.split(".")[0]
    if not major.isdigit():
        raise ConfigurationError(f"Invalid value for setting 'kinto.http_api_version': {version!r} (expected e.g. 1.0)")
    percentage = settings["backoff_percentage"]
    if percentage is not None and percentage < 0:
        raise ConfigurationError(f"Invalid value for setting 'kinto.backoff_percentage': {percentage!r} is negative")
    if settings["eos"]:
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


def _bound_data(request: Any) -> dict[str, Any]:
    return {}


def _json_body(request: Any) -> Any:
    """``request.json_body``: the client's JSON within the limits of :mod:`kinto.core.jsonbody`."""
    return parse_request_body(request)


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
    if "basicauth" in settings["multiauth.policies"]:
        # Kinto's clients (the admin's login form) look for this capability to offer Basic Auth.
        config.add_api_capability(
            "basicauth",
            description="HTTP Basic Auth: a user name and password hashed into a user id; for tests and demos.",
            url="https://kinto.readthedocs.io/en/stable/api/1.x/authentication.html",
        )


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
    config.add_subscriber(measure_backends, ApplicationCreated)
    config.add_subscriber_predicate("for_actions", events.ActionsPredicate)
    config.add_subscriber_predicate("for_resources", events.ResourcesPredicate)
    events.setup_listeners(config)

    config.add_tween("kinto.core.tweens.request_tween_factory", under=INGRESS)
    # Outside the request tween: it measures the answer clients get, errors and CORS included.
    config.add_tween(
        "kinto.core.metrics.request_tween_factory",
        under=INGRESS,
        over="kinto.core.tweens.request_tween_factory",
    )
    config.add_tween("kinto.core.tweens.transaction_tween_factory", over=MAIN, under=EXCVIEW)

    from kinto.core.views import errors as error_views

    error_views.setup(config)
    setup_version_redirect(config)
    config.route_prefix = api_prefix(settings)
    # Kinto's ``registry.route_prefix``: plugins build prefixed URIs with it (``/{route_prefix}/buckets/...``).
    set_route_prefix(config.registry, config.route_prefix)
    config.scan("kinto.core.views", ignore=["kinto.core.views.errors"])


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
        config.add_subscriber(migrate_on_startup, ApplicationCreated)
    config.commit()
