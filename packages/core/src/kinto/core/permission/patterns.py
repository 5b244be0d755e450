"""Object id patterns, as the permission contract defines them.

``*`` is the only wildcard. With children (the default, and always in
``delete_object_permissions``) it matches any run of characters, ``/``
included; without, one or more characters other than ``/``. SQL backends
narrow with ``like_pattern`` (an index-friendly ``LIKE ... ESCAPE '\\'``, which
is exact with children; SQLite uses the case-sensitive ``glob_pattern``
instead, its ``LIKE`` ignoring ASCII case) and check the remaining rows with
``id_matcher``, which matches in linear time (:mod:`kinto.core.patterns`):
patterns may come from clients.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from kinto.core.patterns import glob_matcher, segment_glob_matcher

__all__ = ["LIKE_ESCAPE", "glob_pattern", "id_matcher", "is_pattern", "like_pattern"]

LIKE_ESCAPE = "\\"


def is_pattern(object_id: str) -> bool:
    """Whether ``object_id`` holds a wildcard."""
    return "*" in object_id


@lru_cache(maxsize=512)
def id_matcher(pattern: str, with_children: bool = True) -> Callable[[str], bool]:
    """Return a predicate telling whether an object id matches ``pattern``."""
    if not with_children and pattern.endswith("*") and pattern.find("*") == len(pattern) - 1:
        # A plural endpoint's own pattern (``/buckets/b/collections/c/records/*``), checked
        # against every object shared with a user: two string tests per id.
        head, size = pattern[:-1], len(pattern) - 1
        return lambda object_id: len(object_id) > size and object_id.startswith(head) and object_id.find("/", size) < 0
    if not is_pattern(pattern):
        return pattern.__eq__
    return glob_matcher(pattern) if with_children else segment_glob_matcher(pattern)


def like_pattern(pattern: str) -> str:
    """Return the SQL ``LIKE`` pattern (escape character ``\\``) matching
    what ``pattern`` matches with children."""
    escaped = (
        pattern.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2).replace("%", LIKE_ESCAPE + "%").replace("_", LIKE_ESCAPE + "_")
    )
    return escaped.replace("*", "%")


def glob_pattern(pattern: str) -> str:
    """Return the SQLite ``GLOB`` pattern matching what ``pattern`` matches
    with children (``*`` kept, ``?`` and ``[`` made literal)."""
    return pattern.replace("[", "[[]").replace("?", "[?]")
