"""Client JSON: the one parser of request bodies, and the nesting limit every write obeys.

Every body a client sends (a PUT, a POST, a PATCH, a batch and each of its
sub-requests, a search) is parsed here, so a limit holds on every path:

* the body is text in a real text encoding: a ``charset`` that names no codec,
  or a bytes-to-bytes one (``rot13``, ``base64``), is a 415 like any other
  unsupported media type;
* strings are Unicode text: a lone surrogate (``"\\ud800"``, or one that a
  UTF-16 or UTF-7 decoder produced) is refused, since no backend can store it;
* no NaN/Infinity and no number out of range;
* containers nest at most ``json_max_depth`` levels (``{}`` is one level).
  Deeper documents are refused before they are parsed: every backend, the
  JSON renderer and ``copy.deepcopy`` must be able to walk what was stored,
  and Python's recursion limit is near 1,000 levels for all of them.

Objects built from several requests (a JSON Patch adding under a deep
pointer) are checked again with :func:`too_deep` before they are stored.
"""

from __future__ import annotations

import codecs
import json
import math
import re
from itertools import accumulate
from typing import Any

from pyramid import httpexceptions

from kinto.core.errors import ERRORS, http_error, invalid

__all__ = ["parse_request_body", "too_deep"]

_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_ESCAPED_SURROGATE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_OPENING = frozenset("[{")


def parse_request_body(request: Any, extra_depth: int = 0) -> Any:
    """The request body as JSON, or the 400/415 error a client can act on (never a 500).

    ``extra_depth``: levels an envelope adds around documents that obey the
    limit themselves (a batch wraps each sub-request's body in three).
    """
    text = _decoded(request)
    limit = request.registry.settings["json_max_depth"] + extra_depth
    if _text_too_deep(text, limit):
        raise _invalid_json(f"nested deeper than {limit} levels (json_max_depth)")
    try:
        value = json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
    except ValueError as error:
        raise _invalid_json(str(error)) from None
    except RecursionError:  # only reachable with a json_max_depth above the interpreter's limit
        raise _invalid_json("nested too deeply") from None
    if _ESCAPED_SURROGATE.search(text) and not _is_text(value):
        raise _invalid_json("strings must be Unicode text (a lone surrogate escape was found)")
    return value


def too_deep(value: Any, limit: int) -> bool:
    """Whether the containers of ``value`` nest more than ``limit`` levels (iteratively: any depth)."""
    pending = [(value, 1)]
    while pending:
        current, depth = pending.pop()
        children = current.values() if isinstance(current, dict) else current if isinstance(current, list) else None
        if children is None:
            continue
        if depth > limit:
            return True
        pending.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def _decoded(request: Any) -> str:
    charset = request.charset or "utf-8"
    try:
        text = request.body.decode(charset)
    except LookupError:  # no such codec, or one that does not decode bytes to text
        raise http_error(
            httpexceptions.HTTPUnsupportedMediaType(),
            errno=ERRORS.INVALID_PARAMETERS,
            message=f"Unsupported charset {charset!r}: send JSON as UTF-8",
            details=[{"location": "header", "name": "Content-Type", "description": f"Unsupported charset {charset!r}"}],
        ) from None
    except UnicodeError as error:
        raise _invalid_json(str(error)) from None
    if codecs.lookup(charset).name != "utf-8":
        # A strict UTF-8 decoder never yields a surrogate; UTF-7 (and friends) may.
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise _invalid_json("strings must be Unicode text (a lone surrogate was found)") from None
    return text


def _text_too_deep(text: str, limit: int) -> bool:
    """Nesting of ``text``'s brackets outside strings, counted without parsing (no recursion)."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    if len(brackets) <= limit:  # each level needs its own opening bracket
        return False
    return max(accumulate(1 if char in _OPENING else -1 for char in brackets)) > limit


def _is_text(value: Any) -> bool:
    """Every string of ``value`` (keys included) encodes to UTF-8."""
    pending = [value]
    try:
        while pending:
            current = pending.pop()
            if isinstance(current, str):
                current.encode("utf-8")
            elif isinstance(current, dict):
                pending.extend(current.keys())
                pending.extend(current.values())
            elif isinstance(current, list):
                pending.extend(current)
    except UnicodeEncodeError:
        return False
    return True


def _invalid_json(reason: str) -> Exception:
    # errno 107 (invalid parameters), as Kinto 26.5.0 answers every body it cannot parse: clients
    # branch on it. Its 106 (BADJSON) is never sent.
    description = f"Invalid JSON: {reason}"
    return invalid(description, location="body", message=description)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"{text} is out of the range of numbers this server stores")
    return value
