"""The reserved field ``__kinto__``, and every way a search body could name it.

Each indexed record carries the principals who may read it in ``__kinto__``
(see :mod:`kinto_elasticsearch.permissions`). Clients never reach that field:
not by its name, nor escaped in a query string the way Lucene reads it
(``\\_\\_kinto\\_\\_.principals:*``, ``\\u005f...``), nor through a field
pattern that would match it (``_*``, ``*principals``, ``__kinto__.*``).

The one pattern allowed is the bare ``*`` ("every field"): Elasticsearch leaves
fields whose name starts with ``_`` out of it, the embedded indexer leaves the
reserved field out, and answers never show the reserved field (``_source``,
highlights).
"""

from __future__ import annotations

from collections.abc import Iterator

from kinto_elasticsearch.indexer import RESERVED_FIELD

__all__ = ["RESERVED_PATHS", "glob_match", "names_reserved_field", "query_string_fields", "reaches_reserved"]

#: The reserved field and the fields inside it.
RESERVED_PATHS = (RESERVED_FIELD, f"{RESERVED_FIELD}.principals", f"{RESERVED_FIELD}.parent_id")

_HEX = frozenset("0123456789abcdefABCDEF")
# Characters ending a term in Lucene's query syntax (unless escaped); ":" ends a field name.
_TERM_ENDS = frozenset(' \t\n\r\u3000()[]{}"^~/:')
_OPERATORS = frozenset("+-!")


def glob_match(pattern: str, text: str) -> bool:
    """Whether ``text`` matches ``pattern`` (``*`` any run, ``?`` any one character).

    Linear backtracking over the last ``*`` only: at worst ``len(pattern) *
    len(text)`` steps, whatever the pattern (a regular expression built from
    it could take exponential time).
    """
    position = start = 0
    star, marked = -1, 0
    while start < len(text):
        if position < len(pattern) and pattern[position] == "*":
            star, marked = position, start
            position += 1
        elif position < len(pattern) and pattern[position] in ("?", text[start]):
            position += 1
            start += 1
        elif star >= 0:
            position, marked = star + 1, marked + 1
            start = marked
        else:
            return False
    return all(char == "*" for char in pattern[position:])


def _reaches(name: str) -> bool:
    if RESERVED_FIELD in name:
        return True
    if name == "*" or ("*" not in name and "?" not in name):
        return False
    return any(glob_match(name, path) for path in RESERVED_PATHS)


def reaches_reserved(name: str) -> bool:
    """Whether a field name or pattern (``^boost`` suffix allowed) could name the reserved field."""
    bare = name.split("^", 1)[0]
    # Lucene operators glued to a term ("&&_*:x") are read as part of it; taking them off costs nothing.
    return any(_reaches(candidate) for candidate in (name, bare, bare.lstrip("&|+-!")))


def _decoded(text: str) -> Iterator[tuple[str, bool]]:
    """The characters of a query string as Lucene reads them: ``(char, escaped)``, ``\\x`` and ``\\uXXXX`` decoded."""
    position = 0
    while position < len(text):
        char = text[position]
        if char != "\\" or position + 1 == len(text):
            yield char, False
            position += 1
            continue
        code = text[position + 2 : position + 6]
        if text[position + 1] == "u" and len(code) == 4 and set(code) <= _HEX:
            yield chr(int(code, 16)), True
            position += 6
            continue
        yield text[position + 1], True
        position += 2


def _closing_quote(characters: list[tuple[str, bool]], start: int) -> int | None:
    for position in range(start, len(characters)):
        if characters[position] == ('"', False):
            return position
    return None


def query_string_fields(text: str) -> list[str]:
    """The field names a query string (Lucene syntax) names, unescaped: ``field:x``, ``field :x``,
    ``+field:x`` and the field of ``_exists_:field``.

    Generous on purpose: anything Lucene could read as a field name is
    returned (a term followed by ``:``), except inside a terminated phrase.
    """
    characters = list(_decoded(text))
    fields: list[str] = []
    token, previous, field_follows = "", None, False
    position = 0
    while position < len(characters):
        char, escaped = characters[position]
        position += 1
        if escaped or char not in _TERM_ENDS:
            if token or escaped or char not in _OPERATORS:
                token += char
            continue
        if char == ":":
            name = token or previous
            if name is not None:
                fields.append(name)
                field_follows = name == "_exists_"
            token, previous = "", None
            continue
        if token and field_follows:
            fields.append(token)
            field_follows = False
        previous = (token or previous) if char.isspace() else None
        token = ""
        if char == '"':
            closing = _closing_quote(characters, position)
            position = closing + 1 if closing is not None else position
    if token and field_follows:
        fields.append(token)
    return fields


def names_reserved_field(query_string: str) -> bool:
    """Whether a query string names the reserved field (as a field, a field pattern, or anywhere once unescaped)."""
    unescaped = "".join(char for char, _ in _decoded(query_string))
    return RESERVED_FIELD in unescaped or any(reaches_reserved(name) for name in query_string_fields(query_string))
