"""Kinto's ``kinto.core.decorators``: three decorators plugins written for Kinto import.

Stable API for plugin authors (same names and behaviour as Kinto 26.5's):

* ``cache_forever``: a view whose first answer (its body and headers) is replayed on every
  later call; the view must return a body, not a ``Response``.
* ``synchronized``: a method that never runs in two threads at once for the same instance
  (a re-entrant lock per instance).
* ``deprecate_kwargs({"old": "new"})``: a function that still accepts renamed keyword
  arguments, with a ``DeprecationWarning`` naming the new one.
"""

from __future__ import annotations

import functools
import threading
import warnings
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from pyramid.response import Response

__all__ = ["cache_forever", "deprecate_kwargs", "synchronized"]

_Function = TypeVar("_Function", bound=Callable[..., Any])

_LOCKS_GUARD = threading.Lock()


class cache_forever:
    """Replay the first answer of the decorated view (body and response headers) forever."""

    def __init__(self, wrapped: Callable[..., Any]) -> None:
        self.wrapped = wrapped
        self.saved: Any = None
        self.saved_headers: dict[str, str] = {}
        functools.update_wrapper(self, wrapped)

    def __call__(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        if self.saved is None:
            body = self.wrapped(request, *args, **kwargs)
            if isinstance(body, Response):
                raise ValueError("cache_forever keeps a view's body, not a Response")
            self.saved = body
            self.saved_headers = dict(request.response.headers)
        response = request.response
        response.write(self.saved)
        response.headers.update(self.saved_headers)
        return response


def synchronized(method: _Function) -> _Function:
    """Serialise calls of ``method`` per instance (Java's ``synchronized``), re-entrant."""

    @functools.wraps(method)
    def locked(self: Any, *args: Any, **kwargs: Any) -> Any:
        lock = self.__dict__.get("__lock__")
        if lock is None:
            with _LOCKS_GUARD:
                lock = self.__dict__.setdefault("__lock__", threading.RLock())
        with lock:
            return method(self, *args, **kwargs)

    return locked  # type: ignore[return-value]


def deprecate_kwargs(deprecated: Mapping[str, str]) -> Callable[[_Function], _Function]:
    """Accept the old keyword names of ``deprecated`` (old -> new), warning on each use."""

    def decorate(function: _Function) -> _Function:
        @functools.wraps(function)
        def renamed(*args: Any, **kwargs: Any) -> Any:
            for old, new in deprecated.items():
                if old in kwargs:
                    warnings.warn(
                        f"{function.__qualname__}: the parameter {old!r} is deprecated, use {new!r}",
                        DeprecationWarning,
                        stacklevel=2,
                    )
                    kwargs[new] = kwargs.pop(old)
            return function(*args, **kwargs)

        return renamed  # type: ignore[return-value]

    return decorate
