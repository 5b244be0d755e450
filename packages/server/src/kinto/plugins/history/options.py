"""The history's settings (Kinto 26.5's names): one table of defaults, read into typed options.

``history.exclude_resources``
    URIs whose changes are not recorded: a bucket (``/buckets/b1``), a
    collection (``/buckets/b1/collections/c1``), or one group or record.
``history.exclude_user_ids``
    Users (prefixed ids, ``basicauth:...``) whose changes are not recorded.
``history.auto_trim_max_count``
    When positive, each bucket keeps at most this many entries per kind of
    object (bucket, collection, group, record) once trimmed; ``-1`` keeps all.
``history.auto_trim_threshold``
    How many entries a kind may exceed the maximum by before it is trimmed
    (trimming then removes them all at once), 100 by default.
``history.auto_trim_user_ids``
    When given, trimming applies to these users' entries only, counted per
    user and kind of object.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kinto.core.settings import apply_defaults, as_list
from pyramid.exceptions import ConfigurationError

__all__ = ["DEFAULT_SETTINGS", "HistoryOptions", "excluded_resource_parts", "read_options"]

DEFAULT_SETTINGS: dict[str, Any] = {
    "history.exclude_resources": "",
    "history.exclude_user_ids": "",
    "history.auto_trim_max_count": -1,
    "history.auto_trim_threshold": 100,
    "history.auto_trim_user_ids": "",
}

#: What each setting of ``DEFAULT_SETTINGS`` does (the documentation's settings table).
SETTING_DESCRIPTIONS: dict[str, str] = {
    "history.exclude_resources": "URIs whose changes are not recorded (a bucket, a collection, a group or a record)",
    "history.exclude_user_ids": "users (prefixed ids) whose changes are not recorded",
    "history.auto_trim_max_count": "entries each bucket keeps per kind of object once trimmed (`-1`: all)",
    "history.auto_trim_threshold": "entries a kind may exceed the maximum by before it is trimmed",
    "history.auto_trim_user_ids": "when given, trimming applies to these users' entries only",
}

_URI = re.compile(
    r"^/buckets/(?P<bucket>[^/]+)"
    r"(?:/collections/(?P<collection>[^/]+)(?:/records/(?P<record>[^/]+))?|/groups/(?P<group>[^/]+))?$"
)


@dataclass(frozen=True)
class HistoryOptions:
    excluded_resources: tuple[str, ...]
    excluded_user_ids: frozenset[str]
    #: Entries kept per bucket and kind of object (and user, see ``trimmed_user_ids``); 0: no trimming.
    max_count: int
    threshold: int
    #: When not empty, only these users' entries are trimmed, each user's on its own.
    trimmed_user_ids: tuple[str, ...]
    #: Entries carry their own read permission (``explicit_permissions``); otherwise only the
    #: bucket's readers see the history, as in Kinto.
    explicit_permissions: bool

    def is_excluded(self, *uris: str) -> bool:
        return any(uri in self.excluded_resources for uri in uris)

    def trimming_stream(self, resource_name: str, user_id: str | None) -> str | None:
        """The entries one written by ``user_id`` about a ``resource_name`` is counted with, or None
        when such entries are never trimmed."""
        if self.max_count <= 0:
            return None
        if not self.trimmed_user_ids:
            return resource_name
        if user_id not in self.trimmed_user_ids:
            return None
        return f"{resource_name} {user_id}"


def excluded_resource_parts(uri: str) -> dict[str, str]:
    """``/buckets/b1/collections/c1`` → ``{"bucket": "b1", "collection": "c1"}`` (as the capability shows it)."""
    match = _URI.match(uri)
    if match is None:
        raise ConfigurationError(
            f"Invalid value in setting 'history.exclude_resources': {uri!r} is not the URI of a bucket, "
            "collection, group or record (e.g. /buckets/b1/collections/c1)"
        )
    return {name: value for name, value in match.groupdict().items() if value is not None}


def read_options(settings: Mapping[str, Any]) -> HistoryOptions:
    """Typed options from the application's settings (not modified); ConfigurationError naming the setting."""
    values = dict(settings)
    apply_defaults(values, DEFAULT_SETTINGS)
    excluded = as_list(values["history.exclude_resources"])
    for uri in excluded:
        excluded_resource_parts(uri)
    threshold = values["history.auto_trim_threshold"]
    if threshold < 0:
        raise ConfigurationError(f"Invalid value for setting 'history.auto_trim_threshold': {threshold} is negative")
    return HistoryOptions(
        excluded_resources=tuple(excluded),
        excluded_user_ids=frozenset(as_list(values["history.exclude_user_ids"])),
        max_count=max(values["history.auto_trim_max_count"], 0),
        threshold=threshold,
        trimmed_user_ids=tuple(as_list(values["history.auto_trim_user_ids"])),
        explicit_permissions=bool(values.get("explicit_permissions", True)),
    )
