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
``None``, but "1.23" is never turned into a number.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping, MutableMapping
from typing import Any

from pyramid.exceptions import ConfigurationError

__all__ = [
    "DEFAULT_SETTINGS",
    "PREFIX",
    "apply_defaults",
    "as_bool",
    "as_list",
    "environment_names",
    "read_setting",
    "unprefixed",
]

PREFIX = "kinto."

_TRUE = frozenset({"true", "yes", "on", "y", "t", "1"})
_FALSE = frozenset({"false", "no", "off", "n", "f", "0", ""})

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
    "storage_pool_size": 10,
    "storage_pool_timeout": 30.0,
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
    "backoff_percentage": None,
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
    "paginate_by": None,
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
    return default
