"""Which web-app URLs the login flow may send a token to (``fxa-oauth.webapp.authorized_domains``)."""

from __future__ import annotations

from collections.abc import Iterable
from fnmatch import fnmatchcase
from urllib.parse import urlsplit

__all__ = ["redirect_allowed"]


def redirect_allowed(url: str, authorized_domains: Iterable[str]) -> bool:
    """Whether ``url`` is an http(s) URL whose host matches one of the ``authorized_domains`` patterns.

    Patterns are shell-style (``*.example.com``, ``localhost:8080``) and match the host,
    or ``host:port`` when the URL names a port. URLs with credentials (``user@host``),
    without a host, or with characters that browsers and parsers read differently
    (backslashes, whitespace, control characters) are refused. No pattern, no redirect.
    """
    if any(character in url for character in "\\\t\r\n ") or any(ord(character) < 32 for character in url):
        return False
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not parts.hostname or "@" in parts.netloc:
        return False
    host = parts.hostname.lower()
    candidates = [host] if port is None else [f"{host}:{port}"]
    return any(fnmatchcase(candidate, pattern.lower()) for pattern in authorized_domains for candidate in candidates)
