"""How cache backends check keys, turn values into text and back, and report their driver's errors.

Values are stored as JSON text, so every backend returns the same thing: a
dict set is an equal dict got (tuples come back as lists, non-string dict
keys as strings), and a value the caller mutates after ``set`` is not
changed in the cache.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec, TypeVar

from kinto.core import jsontext
from kinto.core.cache import CacheBackendError

__all__ = ["backend_errors", "check_key", "decode", "encode", "expiry"]

_Backend = TypeVar("_Backend")
_P = ParamSpec("_P")
_R = TypeVar("_R")


def check_key(key: str) -> str:
    """Return ``key`` if it is a usable cache key; raise ``TypeError`` for a
    non-string and ``ValueError`` for one containing a NUL character or a lone
    surrogate (which SQL text columns refuse)."""
    if not isinstance(key, str):
        raise TypeError(f"cache keys are str, not {type(key).__name__}")
    if "\x00" in key:
        raise ValueError("cache keys cannot contain NUL characters")
    if not key.isascii():
        try:
            key.encode("utf-8")
        except UnicodeEncodeError as error:  # lone surrogates cannot be stored as text
            raise ValueError(f"cache key is not valid unicode text: {error}") from error
    return key


def encode(value: Any) -> str:
    """Return the JSON text of ``value``; raise ``TypeError`` when it is not
    JSON (bytes, sets, arbitrary objects, NaN or infinite floats)."""
    try:
        return json.dumps(value, separators=(",", ":"), allow_nan=False)
    except ValueError as error:  # NaN and infinities are not JSON
        raise TypeError(f"value is not JSON-serialisable: {error}") from error


def decode(text: str) -> Any:
    """Return the value whose JSON text is ``text``."""
    return jsontext.loads(text)


def expiry(now: float, ttl: float | None) -> float | None:
    """Return the absolute expiry time of a value set at ``now`` with ``ttl``
    seconds to live (``None`` for no expiry, ``now`` itself for a ``ttl`` of 0
    or less, meaning already expired); raise ``TypeError`` for a
    ``ttl`` that is not a real number and ``ValueError`` for NaN."""
    if ttl is None:
        return None
    if isinstance(ttl, bool) or not isinstance(ttl, (int, float)):
        raise TypeError(f"ttl must be a number of seconds, not {type(ttl).__name__}")
    if math.isnan(ttl):
        raise ValueError("ttl cannot be NaN")
    if ttl <= 0:
        return now  # already expired: a value is expired once its expiry is not in the future
    if math.isinf(ttl):
        return None
    return now + float(ttl)


def backend_errors(
    errors: type[BaseException] | tuple[type[BaseException], ...],
    describe: Callable[[Any, BaseException], str] = lambda backend, error: str(error),
) -> Callable[[Callable[Concatenate[_Backend, _P], _R]], Callable[Concatenate[_Backend, _P], _R]]:
    """Return a decorator for a backend's methods that turns the driver's ``errors`` into
    ``CacheBackendError`` (answered 503), its message ``describe(backend, error)``."""

    def decorator(method: Callable[Concatenate[_Backend, _P], _R]) -> Callable[Concatenate[_Backend, _P], _R]:
        @functools.wraps(method)
        def wrapped(backend: _Backend, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
            try:
                return method(backend, *args, **kwargs)
            except errors as error:
                raise CacheBackendError(original=error, message=describe(backend, error)) from error

        return wrapped

    return decorator
