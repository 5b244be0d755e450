"""Firefox Accounts scope semantics: which granted scopes satisfy a required one.

Two kinds of scope exist. Short names are hierarchical with ``:``
(``profile`` grants ``profile:email``) and a final ``:write`` asks for write
access (``profile:write`` grants ``profile`` and ``profile:email:write``,
``profile`` does not grant ``profile:write``). URL scopes are hierarchical by
path on the same origin (``https://identity.mozilla.com/apps/notes`` grants
``https://identity.mozilla.com/apps/notes/sync``) and a ``#write`` fragment
asks for write access. A hierarchy is made of whole components: ``profile``
does not grant ``profiles``, ``.../apps/notes`` does not grant ``.../apps/notes2``.
Anything else (a URL with a query, say) is only granted by itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = ["Scope", "grants", "parse_scopes", "satisfies"]


@dataclass(frozen=True)
class Scope:
    """A parsed scope: its kind (``short``, ``url`` or ``opaque``), its hierarchy and access."""

    kind: str
    path: tuple[str, ...]
    write: bool

    @classmethod
    def parse(cls, text: str) -> Scope:
        if "://" in text:
            return cls._parse_url(text)
        parts = tuple(text.split(":"))
        if any(not part for part in parts):
            return cls("opaque", (text,), False)
        if len(parts) > 1 and parts[-1] == "write":
            return cls("short", parts[:-1], True)
        return cls("short", parts, False)

    @classmethod
    def _parse_url(cls, text: str) -> Scope:
        try:
            url = urlsplit(text)
        except ValueError:
            return cls("opaque", (text,), False)
        if url.query or url.fragment not in ("", "write") or not url.netloc or text.endswith("#"):
            return cls("opaque", (text,), False)
        segments = tuple(segment for segment in url.path.split("/") if segment)
        if url.path.rstrip("/").count("/") != len(segments) or (url.path and not url.path.startswith("/")):
            return cls("opaque", (text,), False)  # empty segments ("a//b") are not a hierarchy
        return cls("url", (url.scheme.lower(), url.netloc.lower(), *segments), url.fragment == "write")


def grants(granted: str, required: str) -> bool:
    """Whether the scope ``granted`` covers the scope ``required``."""
    if granted == required:
        return True
    have, need = Scope.parse(granted), Scope.parse(required)
    if have.kind != need.kind or have.kind == "opaque":
        return False
    if need.write and not have.write:
        return False
    return need.path[: len(have.path)] == have.path


def satisfies(granted: Iterable[str], required: Iterable[str]) -> bool:
    """Whether every scope of ``required`` is covered by one of ``granted``."""
    granted = tuple(granted)
    return all(any(grants(have, need) for have in granted) for need in required)


def parse_scopes(value: str | Iterable[str] | None) -> tuple[str, ...]:
    """Scopes from a space-separated string (the OAuth form) or a list, duplicates dropped, order kept."""
    if value is None:
        return ()
    items = value.split() if isinstance(value, str) else [str(item) for item in value]
    return tuple(dict.fromkeys(item for item in items if item))
