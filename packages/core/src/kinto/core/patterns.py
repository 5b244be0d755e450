"""Patterns written by clients, matched in time linear in the text.

Clients write patterns in querystrings (``like_`` filters, object ids with
``*``), in JSON Schemas (``pattern``, ``patternProperties``) and in search
queries (``regexp``, ``wildcard``). A backtracking engine such as Python's
``re`` takes exponential time on some of them (``^(a+)+$``, ``*a*a*a*b``),
holding the GIL and, inside a write, the storage lock. So nothing a client
writes reaches ``re``:

* ``*`` globs are matched without any regular expression
  (:func:`glob_matcher`, :func:`segment_glob_matcher`): each literal part is
  taken at its leftmost place after the previous one, which never loses a
  match, so one left-to-right pass decides.
* Regular expressions run on RE2 (:func:`compile_regex`), whose matching
  time is linear in the text. Its syntax is Python's minus backreferences and
  lookaround assertions; those, a pattern longer than
  :data:`MAX_REGEX_LENGTH` and one whose automaton exceeds RE2's memory
  budget raise :class:`PatternError`, which callers answer with a 400.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

import re2

__all__ = [
    "MAX_REGEX_LENGTH",
    "PatternError",
    "Regex",
    "compile_regex",
    "glob_matcher",
    "segment_glob_matcher",
]

#: The longest regular expression a client may submit (characters).
MAX_REGEX_LENGTH = 1000


class PatternError(ValueError):
    """A client's pattern cannot be used: unsupported syntax, or too long."""


class Regex:
    """A regular expression compiled by RE2, with ``re.Pattern``'s ``search`` and ``fullmatch``."""

    __slots__ = ("_compiled",)

    def __init__(self, compiled: Any) -> None:
        self._compiled = compiled

    def search(self, text: str) -> Any:
        """The first match anywhere in ``text``, or None."""
        try:
            return self._compiled.search(text)
        except UnicodeEncodeError:
            return self._compiled.search(_encodable(text))

    def fullmatch(self, text: str) -> Any:
        """A match of the whole ``text``, or None."""
        try:
            return self._compiled.fullmatch(text)
        except UnicodeEncodeError:
            return self._compiled.fullmatch(_encodable(text))


def _encodable(text: str) -> str:
    """``text`` with its lone surrogates (UTF-8 cannot encode them; RE2 works on UTF-8) as U+FFFD."""
    return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


@lru_cache(maxsize=512)
def compile_regex(pattern: str, *, ignore_case: bool = False, dot_all: bool = False) -> Regex:
    """``pattern`` compiled by RE2; ``PatternError`` says why it cannot be."""
    if len(pattern) > MAX_REGEX_LENGTH:
        raise PatternError(f"The regular expression is longer than {MAX_REGEX_LENGTH} characters")
    options = re2.Options()
    options.log_errors = False
    options.case_sensitive = not ignore_case
    options.dot_nl = dot_all
    try:
        return Regex(re2.compile(pattern, options))
    except UnicodeEncodeError:
        raise PatternError("The regular expression holds a lone surrogate") from None
    except re2.error as error:
        reason = error.args[0].decode(errors="replace") if error.args and isinstance(error.args[0], bytes) else error
        raise PatternError(f"Unsupported regular expression {pattern!r}: {reason}") from None


def glob_matcher(pattern: str) -> Callable[[str], bool]:
    """A predicate: does the whole text match ``pattern``, ``*`` standing for any run of characters?"""
    parts = pattern.split("*")
    if len(parts) == 1:
        return pattern.__eq__
    return lambda text: _glob_fullmatch(parts, text, 0)


def segment_glob_matcher(pattern: str, separator: str = "/") -> Callable[[str], bool]:
    """Like :func:`glob_matcher`, ``*`` standing for one or more characters other than ``separator``."""
    # No run crosses a separator, so the separators of the text are those of the pattern.
    segments = [segment.split("*") for segment in pattern.split(separator)]

    def matches(text: str) -> bool:
        pieces = text.split(separator)
        return len(pieces) == len(segments) and all(
            _glob_fullmatch(parts, piece, 1) for parts, piece in zip(segments, pieces, strict=True)
        )

    return matches


def _glob_fullmatch(parts: Sequence[str], text: str, min_run: int) -> bool:
    """Whether ``text`` is ``parts`` joined by runs of at least ``min_run`` characters."""
    first, last = parts[0], parts[-1]
    if len(parts) == 1:
        return text == first
    end = len(text) - len(last)
    if end < len(first) or not text.startswith(first) or not text.endswith(last):
        return False
    position = len(first)
    for part in parts[1:-1]:
        found = text.find(part, position + min_run, end)
        if found < 0:
            return False
        position = found + len(part)
    return end - position >= min_run
