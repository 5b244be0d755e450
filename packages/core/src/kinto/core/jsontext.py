"""Compact JSON text of response bodies, with orjson where it can and the standard library otherwise."""

from __future__ import annotations

import json
from typing import Any

import orjson

__all__ = ["compact"]


def compact(value: Any) -> bytes:
    """``value`` as compact UTF-8 JSON.

    orjson is several times faster than ``json.dumps`` on the records a listing returns; it refuses
    what JSON allows but it cannot write (integers beyond 64 bits, keys that are not strings), and
    those go through the standard library.
    """
    try:
        return orjson.dumps(value)
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return json.dumps(value, separators=(",", ":")).encode("ascii")
