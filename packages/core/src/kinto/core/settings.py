"""Settings: the core's defaults, typed readers, and the environment override rule.

The rule, applied by ``load_default_settings`` to every key it is given:

* a key may be written ``kinto.x`` or ``x`` in the ini; afterwards the settings
  hold both spellings with the same value;
* the value is coerced to the type of its default (bool, int, float, list);
  a value that cannot be coerced fails start-up with a message naming the key;
  both spellings given with different values (after coercion) is an error;
* the environment overrides the file: for the key ``x`` (after stripping
  ``kinto.``), ``KINTO_X`` then ``X`` (upper case, ``.`` and ``-`` become ``_``),
  the ``KINTO_`` form winning. A plugin key ``kinto_elasticsearch.refresh_enabled``
  is thus overridden by ``KINTO_ELASTICSEARCH_REFRESH_ENABLED``.

Values are read as JSON where they parse, as Kinto reads them
(``KINTO_EOS='"2026-12-07"'`` is the date, ``KINTO_INCLUDES='["a", "b"]'`` a list),
within the setting's type: settings whose default is a string (or ``None``), and
keys without a default, stay strings: a JSON string is unquoted and ``null`` is
``None``, but "1.23" is never turned into a number. A setting that is ``None``
unless given, and then typed, has ``NoneOr(<a value of its type>)`` as its default
(``"paginate_by": NoneOr(0)``: none, or an integer).

Code reads ``settings["x"]`` once the defaults are applied; a backend's
``load_from_config``, which may run without them (the conformance command, a test),
reads a setting of the table with ``typed_setting(settings, "x")``.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

from pyramid.exceptions import ConfigurationError

__all__ = [
    "DEFAULT_SETTINGS",
    "PREFIX",
    "NoneOr",
    "api_prefix",
    "apply_defaults",
    "as_bool",
    "as_list",
    "environment_names",
    "load_default_settings",
    "read_setting",
    "typed_setting",
    "unprefixed",
]

PREFIX = "kinto."

_TRUE = frozenset({"true", "yes", "on", "y", "t", "1"})
_FALSE = frozenset({"false", "no", "off", "n", "f", "0", ""})


@dataclass(frozen=True)
class NoneOr:
    """The default of a setting that is ``None`` unless given, and then of the type of ``example``
    (``NoneOr(0)``: none, or an integer). An empty value is ``None`` too."""

    example: Any


#: The settings of a database client (SQLite, PostgreSQL), read as ``<kind>_<name>`` (``storage_pool_size``,
#: ``cache_pool_timeout``...): each kind may have its own, these are their defaults.
CLIENT_DEFAULTS: dict[str, Any] = {
    "pool_size": 10,
    "pool_timeout": 30.0,
    "connect_timeout": 5.0,
    "statement_timeout_ms": NoneOr(0),
}

#: The core's settings and their defaults; the default's type is the setting's type.
DEFAULT_SETTINGS: dict[str, Any] = {
    "project_name": "",
    "project_version": "",
    "project_docs": "",
    "http_api_version": "1.0",
    "http_scheme": None,
    "http_host": None,
    "includes": [],
    "readonly": False,
    # Create or upgrade the backends' tables (and run plugin migrations) when the app is created.
    "migrate_on_startup": False,
    # Backends (dotted module or entry-point short name); empty = memory, with a warning.
    "storage_backend": "",
    "storage_url": "",
    "storage_pool_size": CLIENT_DEFAULTS["pool_size"],
    "storage_pool_timeout": CLIENT_DEFAULTS["pool_timeout"],
    "storage_max_fetch_size": 10000,
    "cache_backend": "",
    "cache_url": "",
    "cache_prefix": "",
    "cache_max_size_bytes": 524288,
    "permission_backend": "",
    "permission_url": "",
    "heartbeat_timeout_seconds": 10.0,
    # Logging
    "logging_renderer": "kinto.core.logs.ClassicLogRenderer",
    "logging_logger_name": "",
    # Monitoring: matchdict fields added as labels of the request metrics (kinto.core.metrics);
    # Sentry (kinto.core.sentry), levels as the logging module's numbers.
    "metrics_matchdict_fields": [],
    "sentry_dsn": None,
    "sentry_env": None,
    "sentry_breadcrumbs_min_level": 10,
    "sentry_events_min_level": 30,
    # HTTP behaviour
    "cors_origins": ["*"],
    "cors_max_age_seconds": 3600,
    "backoff": None,
    "backoff_percentage": NoneOr(0),
    "retry_after_seconds": 30,
    "eos": None,
    "eos_message": None,
    "eos_url": None,
    "error_info_link": "https://github.com/Kinto/kinto/issues/",
    "version_prefix_redirect_enabled": True,
    "version_prefix_redirect_ttl_seconds": -1,
    "trailing_slash_redirect_enabled": True,
    "trailing_slash_redirect_ttl_seconds": 3600,
    "root_cache_expires_seconds": 86400,
    "version_json_path": "version.json",
    "max_request_body_bytes": 8 * 1024 * 1024,
    "json_max_depth": 100,
    # Resources and batch
    "batch_max_requests": 25,
    "paginate_by": NoneOr(0),
    "pagination_token_validity_seconds": 600,
    "id_generator": "kinto.core.storage.generators.UUID4",
    # Ids picked by clients; PostgreSQL indexes keys of up to ~2,700 bytes, parent ids included.
    "id_max_length": 255,
    "explicit_permissions": True,
    "event_listeners": [],
    # Authentication
    "userid_hmac_secret": "",
    "multiauth.policies": [],
    "multiauth.policy.basicauth.use": "kinto.core.authentication.BasicAuthAuthenticationPolicy",
    "multiauth.groupfinder": "kinto.core.authorization.groupfinder",
    # Groups a request loads for its user (its own first, then those of system.Authenticated).
    "max_user_principals": 1000,
    "bucket_create_principals": "system.Authenticated",
    "profiler_dir": tempfile.gettempdir(),
}

#: What each setting of ``DEFAULT_SETTINGS`` does (the documentation's settings table).
SETTING_DESCRIPTIONS: dict[str, str] = {
    "project_name": "the service's name, in `GET /v1/` and `__version__`",
    "project_version": "the service's version, in `GET /v1/` (`initialize` sets it from its `version` argument)",
    "project_docs": "URL of the service's documentation, in `GET /v1/` and in error answers' `info`",
    "http_api_version": "the HTTP API version shown in `GET /v1/`; its major number is the URL prefix (`/v1`)",
    "http_scheme": "scheme of the URLs the service builds (`Next-Page`, `Location`) when a proxy terminates TLS; none: the request's",
    "http_host": "host of the URLs the service builds, when it differs from the request's `Host`; none: the request's",
    "includes": "packages to include after the core (each one's `includeme(config)`), whitespace-separated",
    "readonly": "refuse every write (405) and let anonymous `GET /v1/` be cached; `GET /v1/` says it",
    "migrate_on_startup": "create or upgrade the backends' tables, and run the plugins' migrations, whenever the application starts",
    "storage_backend": "storage module (`load_from_config(config)`) or entry-point name (`memory`, `sqlite`, `postgresql`); empty: memory, with a warning",
    "storage_url": "the storage's database (`sqlite:///path`, `postgresql://user@host/db`)",
    "storage_pool_size": "PostgreSQL connections kept per process by the storage",
    "storage_pool_timeout": "seconds a request waits for a free PostgreSQL connection before a 503",
    "storage_max_fetch_size": "most objects one storage read returns (pages are cut at it)",
    "cache_backend": "cache module or entry-point name (`memory`, `sqlite`, `postgresql`, `redis`, `memcached`); empty: memory",
    "cache_url": "the cache's server or database",
    "cache_prefix": "prefix of every cache key: several applications may share one cache",
    "cache_max_size_bytes": "bytes the memory cache keeps before evicting its oldest entries (the other backends leave it to their server)",
    "permission_backend": "permission module or entry-point name (`memory`, `sqlite`, `postgresql`); empty: memory",
    "permission_url": "the permission backend's database",
    "heartbeat_timeout_seconds": "seconds each check of `/v1/__heartbeat__` may take before it counts as failed (503)",
    "logging_renderer": "how log events are written: a `kinto.core.logs.Renderer` class or callable (`kinto.core.logs.JsonLogRenderer`, `kinto_fluent.FluentRenderer`)",
    "logging_logger_name": "the `Logger` field of `kinto.core.logs.JsonLogRenderer`'s lines; empty: the project name",
    "metrics_matchdict_fields": "URL fields (`bucket_id`, `collection_id`) added as labels of the request metrics",
    "sentry_dsn": "send errors to Sentry at this DSN (needs `kinto-core[sentry]`); none: off",
    "sentry_env": "the Sentry environment of the events sent",
    "sentry_breadcrumbs_min_level": "lowest log level kept as Sentry breadcrumbs (logging's numbers: 10 debug, 20 info, 30 warning)",
    "sentry_events_min_level": "lowest log level sent to Sentry as an event",
    "cors_origins": "origins allowed by CORS (`*` for any)",
    "cors_max_age_seconds": "how long browsers may cache a CORS preflight answer",
    "backoff": "seconds sent in a `Backoff` header on every answer, asking clients to slow down; none: no header",
    "backoff_percentage": "percentage of answers that carry the `Backoff` header; none: all of them",
    "retry_after_seconds": "the `Retry-After` of 503 answers (backend errors)",
    "eos": "end-of-service date (`YYYY-MM-DD`): `Alert` headers before it, 410 errno 202 after it",
    "eos_message": "message of the end-of-service `Alert`",
    "eos_url": "URL in the end-of-service `Alert`",
    "error_info_link": "the `info` URL of 500 errors",
    "version_prefix_redirect_enabled": "answer URLs without `/v1` with a 307 to the same path under it",
    "version_prefix_redirect_ttl_seconds": "how long clients may cache that redirect (`-1`: not cached)",
    "trailing_slash_redirect_enabled": "redirect a URL with a trailing slash to the one without",
    "trailing_slash_redirect_ttl_seconds": "how long clients may cache that redirect (`-1`: not cached)",
    "root_cache_expires_seconds": "how long anonymous `GET /v1/` may be cached, when `readonly` is on",
    "version_json_path": "the `version.json` file `/v1/__version__` answers (else built from the settings)",
    "max_request_body_bytes": "largest request body accepted (413 errno 113 past it)",
    "json_max_depth": "levels of containers a JSON body may nest (400 past it)",
    "batch_max_requests": "sub-requests one `POST /v1/batch` may hold",
    "paginate_by": "page size of lists when the client gives no `_limit` (and the largest `_limit` honoured); none: `storage_max_fetch_size`",
    "pagination_token_validity_seconds": "how long a `Next-Page` token stays valid",
    "id_generator": "class drawing the ids of objects created by `POST`, for resources without their own",
    "id_max_length": "longest id a client may choose",
    "explicit_permissions": "give the writer of an object the `write` permission on it; false: only inherited permissions apply",
    "event_listeners": "names of the listeners configured under `event_listeners.<name>.*` (`use`, `actions`, `resources`, `events`)",
    "userid_hmac_secret": "the secret user ids are derived from (required; changing it changes every user id)",
    "multiauth.policies": "authentication policies tried in order (`basicauth`, `account`, `fxa`...), each configured by `multiauth.policy.<name>.use`",
    "multiauth.policy.basicauth.use": "the class of the `basicauth` policy",
    "multiauth.groupfinder": "the function giving a user's group principals",
    "max_user_principals": "group principals one request loads for its user (its own groups first); the rest are ignored, with a warning",
    "bucket_create_principals": "principals who may create buckets (for the resources of the Kinto API)",
    "profiler_dir": "Kinto's folder of profiler output; accepted for Kinto's ini files, unused (no profiler)",
}

#: Settings shown in ``GET /v1/`` (the public subset).
PUBLIC_SETTINGS = ("batch_max_requests", "readonly", "explicit_permissions")


def read_setting(settings: Mapping[str, Any], name: str, default: Any = None) -> Any:
    """``name`` from settings holding the ``x`` or the ``kinto.x`` spelling (or both); ``default`` if empty.

    For the code that may run before ``apply_defaults`` (a backend's ``load_from_config`` called by
    the conformance command, a client shared between backends); after it, read ``settings["x"]``.
    """
    for key in (name, PREFIX + name):
        value = settings.get(key)
        if value not in (None, ""):
            return value
    return default


def typed_setting(settings: Mapping[str, Any], name: str, defaults: Mapping[str, Any] = DEFAULT_SETTINGS) -> Any:
    """``name`` as ``read_setting`` finds it, coerced to the type of its default in ``defaults``
    (the core's table unless given), for code that may run before ``apply_defaults``.

    Raises ``KeyError`` for a name the table does not hold, ``ConfigurationError`` naming the
    setting for a value that is not of its type.
    """
    default = defaults[name]
    value = read_setting(settings, name, _ABSENT)
    if value is _ABSENT:
        return None if isinstance(default, NoneOr) else default
    return coerce(PREFIX + name, value, default)


def client_setting(settings: Mapping[str, Any], kind: str, name: str) -> Any:
    """The database client setting ``<kind>_<name>`` (``storage_pool_size``), typed as its default in
    :data:`CLIENT_DEFAULTS`."""
    key = f"{kind}_{name}"
    return typed_setting(settings, key, {key: CLIENT_DEFAULTS[name]})


def unprefixed(key: str) -> str:
    return key[len(PREFIX) :] if key.startswith(PREFIX) else key


def environment_names(key: str) -> tuple[str, str]:
    """The two environment variables overriding ``key``, the winning one first."""
    name = unprefixed(key).upper().replace(".", "_").replace("-", "_")
    if name.startswith("KINTO_"):
        # A plugin key such as ``kinto_elasticsearch.x``: its natural name already
        # starts with KINTO_, and prefixing it again would be surprising.
        return name, "KINTO_" + name
    return "KINTO_" + name, name


def as_bool(value: Any, key: str = "") -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    text = str(value).strip().lower() if value is not None else ""
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ConfigurationError(f"Invalid value for setting {key or '?'!r}: {value!r} is not a boolean (true/false)")


def as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple, set, frozenset)):
        return [str(item) for item in value]
    return [item for item in str(value).replace(",", " ").split() if item]


_PRINCIPAL_SETTINGS: dict[str, frozenset[str]] = {}


def principals_of(value: Any) -> frozenset[str]:
    """The principals a ``*_principals`` setting lists, parsed once per distinct text.

    Permission checks read these settings on every request; the text stays in the settings (so a
    changed setting takes effect) and only its parsing is remembered.
    """
    if not isinstance(value, str):
        return frozenset(as_list(value))
    parsed = _PRINCIPAL_SETTINGS.get(value)
    if parsed is None:
        if len(_PRINCIPAL_SETTINGS) > 1024:
            _PRINCIPAL_SETTINGS.clear()
        parsed = _PRINCIPAL_SETTINGS[value] = frozenset(as_list(value))
    return parsed


def decoded(value: Any, default: Any = None) -> Any:
    """``value`` read as JSON where it is text that parses, kept within the type of ``default``.

    For a text setting (``default`` a string or ``None``) only a JSON string
    (unquoted) or ``null`` (``None``) is taken; other JSON stays as written.
    """
    if not isinstance(value, str):
        return value
    try:
        parsed = json.loads(value)
    except (ValueError, RecursionError):
        return value
    if default is None or isinstance(default, str):
        return parsed if parsed is None or isinstance(parsed, str) else value
    return parsed


def coerce(key: str, value: Any, default: Any) -> Any:
    """Coerce ``value`` (JSON text read by ``decoded``) to the type of ``default``;
    ConfigurationError naming ``key`` if impossible."""
    if isinstance(default, NoneOr):
        value = decoded(value, None)
        return None if value in (None, "") else coerce(key, value, default.example)
    value = decoded(value, default)
    if default is None or isinstance(default, str):
        return value if value is None or isinstance(value, str) else str(value)
    if isinstance(default, bool):
        return as_bool(value, key)
    try:
        if isinstance(default, (int, float)) and isinstance(value, bool):
            raise ValueError(value)
        if isinstance(default, int):
            return int(str(value).strip()) if not isinstance(value, int) else value
        if isinstance(default, float):
            return float(value)
    except (TypeError, ValueError):
        kind = "an integer" if isinstance(default, int) else "a number"
        raise ConfigurationError(f"Invalid value for setting {key!r}: {value!r} is not {kind}") from None
    if isinstance(default, (list, tuple)):
        return as_list(value)
    return value


def _environment_value(key: str, environ: Mapping[str, str]) -> str | None:
    for name in environment_names(key):
        if name in environ:
            return environ[name]
    return None


def apply_defaults(
    settings: MutableMapping[str, Any],
    defaults: Mapping[str, Any],
    environ: Mapping[str, str] | None = None,
    *,
    include_unknown: bool = False,
) -> None:
    """Apply the settings rule (see the module docstring) for every key of ``defaults``.

    With ``include_unknown`` (the core does it once, at start-up), keys present
    in ``settings`` without a default also get both spellings and the
    environment override, their values kept as text (a JSON string unquoted).
    """
    environ = os.environ if environ is None else environ
    typed = {unprefixed(key): default for key, default in defaults.items()}
    untyped: set[str] = set()
    if include_unknown:
        untyped = {unprefixed(key) for key in settings} - typed.keys()

    for name in [*typed, *sorted(untyped)]:
        has_default = name in typed
        default = typed.get(name)
        from_environment = _environment_value(name, environ)
        if from_environment is not None:
            value = coerce(name, from_environment, default) if has_default else decoded(from_environment)
        else:
            value = _value_from_file(settings, name, PREFIX + name, default, has_default)
        settings[name] = value
        settings[PREFIX + name] = value


_ABSENT = object()


def _value_from_file(settings: Mapping[str, Any], name: str, prefixed: str, default: Any, has_default: bool) -> Any:
    plain = settings.get(name, _ABSENT)
    long = settings.get(prefixed, _ABSENT)
    if has_default:
        plain = plain if plain is _ABSENT else coerce(name, plain, default)
        long = long if long is _ABSENT else coerce(prefixed, long, default)
    else:
        plain = plain if plain is _ABSENT else decoded(plain)
        long = long if long is _ABSENT else decoded(long)
    if plain is not _ABSENT and long is not _ABSENT and plain != long:
        raise ConfigurationError(f"Settings {name!r} and {prefixed!r} are both given, with different values")
    if long is not _ABSENT:
        return long
    if plain is not _ABSENT:
        return plain
    return None if isinstance(default, NoneOr) else default


# --- the application's settings ------------------------------------------------------------------


def load_default_settings(config: Any, default_settings: Mapping[str, Any]) -> None:
    """Apply ``default_settings`` to the application's settings, with the
    environment override rule of this module (for plugins)."""
    settings = config.get_settings()
    apply_defaults(settings, default_settings)
    config.add_settings(settings)


def api_prefix(settings: Mapping[str, Any]) -> str:
    """The URL prefix of the HTTP API: ``v`` and the major number of ``http_api_version`` (``v1``)."""
    return "v" + str(settings["http_api_version"]).split(".")[0]
