"""Which callback URLs the login flow may send tokens to (``multiauth.policy.<name>.trusted_callback_urls``).

Patterns are URLs where ``*`` stands for any run of characters in the host, the
port and the rest (path, query, fragment); nothing else is a wildcard
(``?`` and ``[`` are literal). Without patterns, local clients
(``http://localhost:*/*``, ``http://127.0.0.1:*/*``) and the admin UI, when it
is served, are trusted, as in Kinto.

A callback is compared part by part after normalisation (lower-case host,
default port made explicit), and refused outright when browsers and parsers
could read it differently: whitespace or control characters, credentials
(``user@host``), characters a host cannot hold (``evil.com\\.trusted.com``),
or dot segments in the path (also percent-encoded or with backslashes).
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable
from urllib.parse import urlsplit

__all__ = ["DEFAULT_TRUSTED_CALLBACK_URLS", "is_trusted_callback"]

DEFAULT_TRUSTED_CALLBACK_URLS = ("http://localhost:*/*", "http://127.0.0.1:*/*")

_DEFAULT_PORTS = {"http": "80", "https": "443"}
_HOST_CHARACTERS = frozenset(string.ascii_lowercase + string.digits + ".-*")
_IPV6_CHARACTERS = frozenset(string.hexdigits.lower() + ":.")
_PORT_CHARACTERS = frozenset(string.digits + "*")
_DOT_SEGMENT = re.compile(r"(^|/)\.{1,2}(/|$)")


def _parts(url: str) -> tuple[str, str, str, str]:
    """``(scheme, host, port, rest)`` of ``url``; ``ValueError`` when it is malformed or ambiguous."""
    if any(character.isspace() or not character.isprintable() for character in url):
        raise ValueError("whitespace or control characters")
    parts = urlsplit(url)
    if parts.scheme not in _DEFAULT_PORTS or "@" in parts.netloc:
        raise ValueError("scheme other than http(s), or credentials")
    host = parts.hostname or ""
    allowed = _IPV6_CHARACTERS if parts.netloc.startswith("[") else _HOST_CHARACTERS
    if not host or not set(host) <= allowed:
        raise ValueError("empty host, or characters a host cannot hold")
    port = parts.netloc.rsplit("]", 1)[-1].partition(":")[2]
    if not set(port) <= _PORT_CHARACTERS:
        raise ValueError("malformed port")
    path = parts.path.lower().replace("%2e", ".").replace("\\", "/")
    if _DOT_SEGMENT.search(path):
        raise ValueError("dot segments in the path")
    rest = url[len(parts.scheme) + 3 + len(parts.netloc) :] or "/"
    return parts.scheme, host, port or _DEFAULT_PORTS[parts.scheme], rest


def _matches(value: str, pattern: str) -> bool:
    regex = ".*".join(re.escape(piece) for piece in pattern.split("*"))
    return re.fullmatch(regex, value, flags=re.DOTALL) is not None


def is_trusted_callback(callback: str, patterns: Iterable[str]) -> bool:
    """Whether ``callback`` matches one of ``patterns`` (see the module docstring)."""
    try:
        scheme, host, port, rest = _parts(callback)
    except ValueError:
        return False
    for pattern in patterns:
        try:
            p_scheme, p_host, p_port, p_rest = _parts(pattern)
        except ValueError:
            continue
        if scheme == p_scheme and _matches(host, p_host) and _matches(port, p_port) and _matches(rest, p_rest):
            return True
    return False
