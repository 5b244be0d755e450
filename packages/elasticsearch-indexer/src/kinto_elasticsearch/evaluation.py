"""Evaluate Elasticsearch search bodies over JSON documents in memory (the embedded indexer's engine).

It follows Elasticsearch's behaviour where clients notice it:

* Strings are *text* unless the mapping says ``keyword``: ``match`` analyses
  them (lowercased words), ``term`` compares one word as given. Like
  Elasticsearch's dynamic mapping, a text field ``f`` has a keyword subfield
  ``f.keyword`` holding the exact value; sorting on a text field is refused.
* Arrays are flattened: a field matches when one of its values does.
* Scores are BM25 (k1 = 1.2, b = 0.75) per field, summed over ``bool`` clauses
  as Elasticsearch does, so relevance ordering is alike (not identical).
* ``query_string`` and ``simple_query_string`` support words, ``"phrases"``,
  ``field:value``, ``field:>n``, wildcards, ``AND``/``OR``/``NOT``, ``+``/``-``
  and parentheses (:mod:`kinto_elasticsearch.query_string`).

Anything outside this subset raises :class:`~kinto_elasticsearch.indexer.SearchError`.
"""

from __future__ import annotations

import fnmatch
import functools
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from kinto.core.patterns import PatternError, Regex, compile_regex, glob_matcher

from kinto_elasticsearch.indexer import RESERVED_FIELD, SearchError

__all__ = ["Document", "Evaluator", "FieldStats", "analyze", "filter_source"]

_WORD = re.compile(r"\w+", re.UNICODE)
_K1, _B = 1.2, 0.75
_MISSING = object()
_NUMBER = (int, float)


def analyze(text: str) -> list[str]:
    """The standard analyzer, near enough: lowercased runs of letters, digits and ``_``."""
    return [word.lower() for word in _WORD.findall(text)]


def _unsupported(what: str) -> SearchError:
    message = f"{what} is not supported by the embedded indexer"
    return SearchError(message, [{"location": "body", "name": None, "description": message}])


def invalid(message: str) -> SearchError:
    return SearchError(message, [{"location": "body", "name": None, "description": message}])


# --- documents -----------------------------------------------------------------------------------


class Document:
    """One indexed document: its id, source, insertion sequence, and per-field caches."""

    __slots__ = ("_tokens", "_values", "id", "sequence", "source")

    def __init__(self, document_id: str, source: Mapping[str, Any], sequence: int) -> None:
        self.id = document_id
        self.source = source
        self.sequence = sequence
        self._values: dict[str, list[Any]] = {}
        self._tokens: dict[str, list[list[str]]] = {}

    def raw_values(self, path: str) -> list[Any]:
        """Leaf values at a dotted path, arrays flattened; ``[]`` when absent."""
        if path not in self._values:
            self._values[path] = list(_walk(self.source, path.split(".")))
        return self._values[path]

    def tokens(self, path: str) -> list[list[str]]:
        """Analysed words of each string value at ``path``."""
        if path not in self._tokens:
            self._tokens[path] = [analyze(value) for value in self.raw_values(path) if isinstance(value, str)]
        return self._tokens[path]

    def leaf_paths(self) -> list[str]:
        """Every dotted path to a leaf value (the ``*`` of full-text queries), reserved field excluded."""
        paths: list[str] = []
        _collect_paths(self.source, "", paths)
        return paths


def _walk(value: Any, parts: list[str]) -> Iterator[Any]:
    if isinstance(value, list):
        for item in value:
            yield from _walk(item, parts)
        return
    if not parts:
        if value is not None:
            yield value
        return
    if not isinstance(value, Mapping):
        return
    # Keys may themselves hold dots: try the longest literal key first.
    for cut in range(len(parts), 0, -1):
        key = ".".join(parts[:cut])
        if key in value:
            yield from _walk(value[key], parts[cut:])
            return


def _collect_paths(value: Any, prefix: str, paths: list[str]) -> None:
    if isinstance(value, list):
        for item in value:
            _collect_paths(item, prefix, paths)
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not prefix and key == RESERVED_FIELD:
                continue
            _collect_paths(item, f"{prefix}.{key}" if prefix else key, paths)
        return
    if prefix and prefix not in paths:
        paths.append(prefix)


# --- mapping -------------------------------------------------------------------------------------


def _mapped_type(properties: Mapping[str, Any], path: str) -> str | None:
    node: Any = {"properties": properties}
    for part in path.split("."):
        children = node.get("properties") if isinstance(node, Mapping) else None
        fields = node.get("fields") if isinstance(node, Mapping) else None
        if isinstance(children, Mapping) and part in children:
            node = children[part]
        elif isinstance(fields, Mapping) and part in fields:
            node = fields[part]
        else:
            return None
    return node.get("type", "object") if isinstance(node, Mapping) else None


class _Field:
    """How one queried path behaves: which values, analysed or not."""

    def __init__(self, path: str, properties: Mapping[str, Any]) -> None:
        mapped = _mapped_type(properties, path)
        self.source_path = path
        self.kind = "auto"
        if mapped in ("text", "match_only_text"):
            self.kind = "text"
        elif mapped is not None and mapped not in ("object", "nested"):
            self.kind = "keyword"  # keywords, dates, numbers...: compared whole, never analysed
        elif mapped is None and path.endswith(".keyword"):
            base = path[: -len(".keyword")]
            if _mapped_type(properties, base) in (None, "text"):
                self.source_path, self.kind = base, "keyword"
        self.path = path

    def values(self, document: Document) -> list[Any]:
        values = document.raw_values(self.source_path)
        if self.kind == "keyword":
            return [value for value in values if not isinstance(value, Mapping)]
        return values

    def is_text(self, value: Any) -> bool:
        return isinstance(value, str) and self.kind != "keyword"


# --- statistics for scoring ----------------------------------------------------------------------


class FieldStats:
    """Document frequencies and average length of one text field over an index (for BM25)."""

    def __init__(self, documents: Iterable[Document], path: str) -> None:
        self.document_count = 0
        self.total_length = 0
        self.frequencies: dict[str, int] = {}
        for document in documents:
            token_lists = document.tokens(path)
            if not token_lists:
                continue
            self.document_count += 1
            words = [word for tokens in token_lists for word in tokens]
            self.total_length += len(words)
            for word in set(words):
                self.frequencies[word] = self.frequencies.get(word, 0) + 1

    def score(self, word: str, frequency: int, length: int) -> float:
        if not self.document_count or not frequency:
            return 0.0
        df = self.frequencies.get(word, 0)
        idf = math.log(1 + (self.document_count - df + 0.5) / (df + 0.5))
        average = self.total_length / self.document_count or 1
        return idf * frequency * (_K1 + 1) / (frequency + _K1 * (1 - _B + _B * length / average))


# --- comparisons ---------------------------------------------------------------------------------


def _coerce_like(value: Any, sample: Any) -> Any:
    """Elasticsearch coerces query operands to the field's type: ``"3"`` finds the number 3."""
    if isinstance(sample, bool):
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        return value
    if isinstance(sample, _NUMBER) and isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    if isinstance(sample, str) and isinstance(value, (bool, *_NUMBER)):
        return (
            str(value).lower()
            if isinstance(value, bool)
            else (str(value) if not isinstance(value, float) or not value.is_integer() else str(int(value)))
        )
    return value


def _same(value: Any, operand: Any) -> bool:
    operand = _coerce_like(operand, value)
    if isinstance(value, bool) or isinstance(operand, bool):
        return isinstance(value, bool) and isinstance(operand, bool) and value == operand
    return value == operand


def _comparable(value: Any, operand: Any) -> bool:
    if isinstance(value, bool) or isinstance(operand, bool):
        return False
    return (isinstance(value, _NUMBER) and isinstance(operand, _NUMBER)) or (
        isinstance(value, str) and isinstance(operand, str)
    )


def _sort_value_key(value: Any) -> tuple[int, Any]:
    if isinstance(value, bool):
        return (2, value)
    if isinstance(value, _NUMBER):
        return (1, value)
    return (0, str(value))


def _levenshtein(left: str, right: str) -> int:
    previous = list(range(len(right) + 1))
    for i, char_left in enumerate(left, 1):
        current = [i]
        for j, char_right in enumerate(right, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_left != char_right)))
        previous = current
    return previous[-1]


def _fuzziness(value: Any, word: str) -> int:
    if value in (None, "AUTO", "auto"):
        return 0 if len(word) <= 2 else (1 if len(word) <= 5 else 2)
    try:
        return int(value)
    except (TypeError, ValueError):
        raise invalid(f"invalid fuzziness {value!r}") from None


# --- the evaluator -------------------------------------------------------------------------------

Score = float | None


class Evaluator:
    """Evaluates one search body over the documents of one index.

    ``documents`` is the whole index (for scoring statistics); ``properties``
    its mapping's properties.
    """

    def __init__(self, documents: Sequence[Document], properties: Mapping[str, Any]) -> None:
        self.documents = documents
        self.properties = properties
        self._stats: dict[str, FieldStats] = {}
        self._fields: dict[str, _Field] = {}

    def field(self, path: str) -> _Field:
        if path not in self._fields:
            self._fields[path] = _Field(path, self.properties)
        return self._fields[path]

    def stats(self, path: str) -> FieldStats:
        if path not in self._stats:
            self._stats[path] = FieldStats(self.documents, path)
        return self._stats[path]

    # --- dispatch ---

    def score(self, query: Mapping[str, Any], document: Document) -> Score:
        """The document's score for ``query``, or ``None`` when it does not match."""
        ((kind, body),) = query.items()
        handler = getattr(self, f"_q_{kind}", None)
        if handler is None:
            raise _unsupported(f"the query type {kind!r}")
        return handler(body, document)

    def matches(self, query: Mapping[str, Any], document: Document) -> bool:
        return self.score(query, document) is not None

    # --- compound queries ---

    def _q_bool(self, body: Mapping[str, Any], document: Document) -> Score:
        def clauses(name: str) -> list[Mapping[str, Any]]:
            value = body.get(name, [])
            return [value] if isinstance(value, Mapping) else list(value)

        total = 0.0
        for clause in clauses("filter"):
            if not self.matches(clause, document):
                return None
        for clause in clauses("must_not"):
            if self.matches(clause, document):
                return None
        for clause in clauses("must"):
            score = self.score(clause, document)
            if score is None:
                return None
            total += score
        should = clauses("should")
        matched = 0
        for clause in should:
            score = self.score(clause, document)
            if score is not None:
                matched += 1
                total += score
        required = _minimum_should_match(
            body.get("minimum_should_match"),
            len(should),
            default=0 if clauses("must") or clauses("filter") else (1 if should else 0),
        )
        if matched < required:
            return None
        return total * float(body.get("boost", 1.0))

    def _q_constant_score(self, body: Mapping[str, Any], document: Document) -> Score:
        return float(body.get("boost", 1.0)) if self.matches(body["filter"], document) else None

    def _q_dis_max(self, body: Mapping[str, Any], document: Document) -> Score:
        scores = [score for score in (self.score(q, document) for q in body["queries"]) if score is not None]
        if not scores:
            return None
        best = max(scores)
        tie = float(body.get("tie_breaker", 0.0))
        return (best + tie * (sum(scores) - best)) * float(body.get("boost", 1.0))

    def _q_boosting(self, body: Mapping[str, Any], document: Document) -> Score:
        score = self.score(body["positive"], document)
        if score is not None and self.matches(body["negative"], document):
            score *= float(body.get("negative_boost", 1.0))
        return score

    def _q_nested(self, body: Mapping[str, Any], document: Document) -> Score:
        path = body.get("path")
        if not isinstance(path, str):
            raise invalid("nested: path is required")
        best: Score = None
        for element in document.raw_values(path):
            if not isinstance(element, Mapping):
                continue
            view = Document(document.id, _replace_path(document.source, path.split("."), element), document.sequence)
            score = self.score(body["query"], view)
            if score is not None and (best is None or score > best):
                best = score
        return best

    # --- leaf queries ---

    def _q_match_all(self, body: Mapping[str, Any], document: Document) -> Score:
        return float(body.get("boost", 1.0))

    def _q_match_none(self, body: Mapping[str, Any], document: Document) -> Score:
        return None

    def _q_ids(self, body: Mapping[str, Any], document: Document) -> Score:
        return 1.0 if document.id in {str(value) for value in body.get("values", [])} else None

    def _q_match(self, body: Mapping[str, Any], document: Document) -> Score:
        path, params = _field_params(body, "query")
        return self.match_field(path, params, document)

    def match_field(self, path: str, params: Mapping[str, Any], document: Document) -> Score:
        field = self.field(path)
        operand = params.get("query")
        boost = float(params.get("boost", 1.0))
        values = field.values(document)
        if not isinstance(operand, str) or not any(field.is_text(value) for value in values):
            try:
                hit = any(_same(value, operand) for value in values if not isinstance(value, Mapping))
            except TypeError:
                hit = False
            return boost if hit else None
        words = analyze(operand)
        if not words:
            return None
        present = {word for tokens in document.tokens(field.source_path) for word in tokens}
        matched = [word for word in words if word in present]
        operator = str(params.get("operator", "or")).lower()
        required = (
            len(words)
            if operator == "and"
            else _minimum_should_match(params.get("minimum_should_match"), len(words), default=1)
        )
        if len(matched) < max(required, 1):
            return None
        return self._bm25(field.source_path, matched, document) * boost

    def _bm25(self, path: str, words: Iterable[str], document: Document) -> float:
        stats = self.stats(path)
        all_words = [word for tokens in document.tokens(path) for word in tokens]
        return sum(stats.score(word, all_words.count(word), len(all_words)) for word in words)

    def _q_match_phrase(self, body: Mapping[str, Any], document: Document, prefix: bool = False) -> Score:
        path, params = _field_params(body, "query")
        return self.phrase_field(path, params, document, prefix=prefix)

    def _q_match_phrase_prefix(self, body: Mapping[str, Any], document: Document) -> Score:
        return self._q_match_phrase(body, document, prefix=True)

    def phrase_field(self, path: str, params: Mapping[str, Any], document: Document, *, prefix: bool = False) -> Score:
        field = self.field(path)
        words = analyze(str(params.get("query", "")))
        if not words:
            return None
        if field.kind == "keyword":
            return 1.0 if any(_same(v, params.get("query")) for v in field.values(document)) else None
        slop = int(params.get("slop", 0))
        for tokens in document.tokens(field.source_path):
            if _phrase_in(words, tokens, slop, prefix):
                return self._bm25(field.source_path, words, document) * float(params.get("boost", 1.0))
        return None

    def _q_match_bool_prefix(self, body: Mapping[str, Any], document: Document) -> Score:
        path, params = _field_params(body, "query")
        words = analyze(str(params.get("query", "")))
        if not words:
            return None
        present = [word for tokens in document.tokens(self.field(path).source_path) for word in tokens]
        hits = [w for w in words[:-1] if w in present] + [w for w in present if w.startswith(words[-1])][:1]
        required = len(words) if str(params.get("operator", "or")).lower() == "and" else 1
        return self._bm25(path, hits, document) if len(hits) >= required else None

    def _q_multi_match(self, body: Mapping[str, Any], document: Document) -> Score:
        if not isinstance(body, Mapping) or "query" not in body:
            raise invalid("multi_match: query is required")
        kind = body.get("type", "best_fields")
        phrase = kind in ("phrase", "phrase_prefix")
        if kind not in ("best_fields", "most_fields", "phrase", "phrase_prefix", "cross_fields"):
            raise _unsupported(f"multi_match type {kind!r}")
        scores = []
        for path, boost in self.expand_fields(body.get("fields"), document):
            params = {**body, "boost": boost}
            score = (
                self.phrase_field(path, params, document, prefix=kind == "phrase_prefix")
                if phrase
                else self.match_field(path, params, document)
            )
            if score is not None:
                scores.append(score)
        if not scores:
            return None
        total = sum(scores) if kind in ("most_fields", "cross_fields") else max(scores)
        return total * float(body.get("boost", 1.0))

    _q_combined_fields = _q_multi_match

    def expand_fields(self, fields: Any, document: Document) -> list[tuple[str, float]]:
        patterns = fields if isinstance(fields, list) else ([fields] if isinstance(fields, str) else ["*"])
        expanded: list[tuple[str, float]] = []
        paths = None
        for pattern in patterns:
            name, _, boost = str(pattern).partition("^")
            weight = float(boost) if boost else 1.0
            if "*" not in name:
                expanded.append((name, weight))
                continue
            paths = paths if paths is not None else document.leaf_paths()
            expanded.extend((path, weight) for path in paths if fnmatch.fnmatchcase(path, name))
        return expanded

    def _q_term(self, body: Mapping[str, Any], document: Document) -> Score:
        path, params = _field_params(body, "value")
        return self.term_field(
            path,
            params.get("value"),
            document,
            float(params.get("boost", 1.0)),
            bool(params.get("case_insensitive", False)),
        )

    def term_field(
        self, path: str, operand: Any, document: Document, boost: float = 1.0, case_insensitive: bool = False
    ) -> Score:
        field = self.field(path)
        for value in field.values(document):
            if isinstance(value, Mapping):
                continue
            if field.is_text(value):
                words = analyze(value)
                if isinstance(operand, str) and (operand in words or (case_insensitive and operand.lower() in words)):
                    return boost
                continue
            if case_insensitive and isinstance(value, str) and isinstance(operand, str):
                if value.lower() == operand.lower():
                    return boost
            elif _same(value, operand):
                return boost
        return None

    def _q_terms(self, body: Mapping[str, Any], document: Document) -> Score:
        fields = [(name, value) for name, value in body.items() if name not in ("boost", "_name")]
        if len(fields) != 1 or not isinstance(fields[0][1], list):
            raise invalid("terms: expected one field with a list of values")
        path, operands = fields[0]
        boost = float(body.get("boost", 1.0))
        return boost if any(self.term_field(path, operand, document) is not None for operand in operands) else None

    def range_query(self, body: Mapping[str, Any], document: Document) -> Score:
        path, params = _field_params(body, None)
        if not isinstance(params, Mapping):
            raise invalid(f"range: expected an object of bounds for {path!r}")
        bounds = {op: params[op] for op in ("gt", "gte", "lt", "lte") if params.get(op) is not None}
        for legacy, op in (("from", "gte"), ("to", "lte")):
            if params.get(legacy) is not None:
                bounds.setdefault(op, params[legacy])
        for value in self.field(path).values(document):
            if isinstance(value, (Mapping, bool)):
                continue
            if all(_compare(value, op, operand) for op, operand in bounds.items()):
                return float(params.get("boost", 1.0))
        return None

    _q_range = range_query

    def _q_exists(self, body: Mapping[str, Any], document: Document) -> Score:
        path = body.get("field") if isinstance(body, Mapping) else None
        if not isinstance(path, str):
            raise invalid("exists: field is required")
        return 1.0 if self.has_value(path, document) else None

    def has_value(self, path: str, document: Document) -> bool:
        return bool(self.field(path).values(document)) or bool(
            [p for p in document.leaf_paths() if p.startswith(path + ".")]
        )

    def string_query(self, body: Mapping[str, Any], document: Document, test: Callable[[str, str], bool]) -> Score:
        path, params = _field_params(body, "value")
        operand = params.get("value")
        if not isinstance(operand, str):
            raise invalid(f"expected a string value for {path!r}")
        insensitive = bool(params.get("case_insensitive", False))
        field = self.field(path)
        for value in field.values(document):
            if not isinstance(value, str):
                continue
            candidates = analyze(value) if field.is_text(value) else [value]
            for candidate in candidates:
                left, right = (candidate.lower(), operand.lower()) if insensitive else (candidate, operand)
                if test(left, right):
                    return float(params.get("boost", 1.0))
        return None

    def _q_prefix(self, body: Mapping[str, Any], document: Document) -> Score:
        return self.string_query(body, document, lambda value, operand: value.startswith(operand))

    def _q_wildcard(self, body: Mapping[str, Any], document: Document) -> Score:
        return self.string_query(body, document, wildcard_match)

    def _q_regexp(self, body: Mapping[str, Any], document: Document) -> Score:
        return self.string_query(body, document, lambda value, operand: _regex(operand).fullmatch(value) is not None)

    def _q_fuzzy(self, body: Mapping[str, Any], document: Document) -> Score:
        path, params = _field_params(body, "value")
        distance = _fuzziness(params.get("fuzziness"), str(params.get("value", "")))
        return self.string_query(
            {path: params}, document, lambda value, operand: _levenshtein(value, operand) <= distance
        )

    def _q_query_string(self, body: Mapping[str, Any], document: Document) -> Score:
        return self._run_query_string(body, document, simple=False)

    def _q_simple_query_string(self, body: Mapping[str, Any], document: Document) -> Score:
        return self._run_query_string(body, document, simple=True)

    def _run_query_string(self, body: Mapping[str, Any], document: Document, *, simple: bool) -> Score:
        if not isinstance(body, Mapping) or not isinstance(body.get("query"), str):
            raise invalid("query_string: query is required")
        fields = body.get("fields") or ([body["default_field"]] if body.get("default_field") else ["*"])
        operator = str(body.get("default_operator", "or")).lower()
        from kinto_elasticsearch import query_string

        return query_string.evaluate(self, body["query"], document, fields, operator, simple=simple)


# --- query helpers -------------------------------------------------------------------------------


def _field_params(body: Any, shorthand: str | None) -> tuple[str, Any]:
    if not isinstance(body, Mapping):
        raise invalid("expected an object naming a field")
    fields = [(name, value) for name, value in body.items() if name not in ("boost", "_name")]
    if len(fields) != 1:
        raise invalid("expected exactly one field")
    path, params = fields[0]
    if shorthand is None:
        return path, params
    if isinstance(params, Mapping):
        if shorthand not in params and not (shorthand == "value" and "term" in params):
            raise invalid(f"{path}: {shorthand} is required")
        return path, {**params, shorthand: params.get(shorthand, params.get("term"))}
    return path, {shorthand: params}


def _minimum_should_match(value: Any, count: int, default: int) -> int:
    if value is None:
        return default
    text = str(value).strip()
    try:
        if text.endswith("%"):
            number = (
                int(count * int(text[:-1]) / 100)
                if not text.startswith("-")
                else count - int(count * int(text[1:-1]) / 100)
            )
        else:
            number = int(text)
            number = count + number if number < 0 else number
    except ValueError:
        raise invalid(f"invalid minimum_should_match {value!r}") from None
    return max(0, min(number, count))


def _compare(value: Any, op: str, operand: Any) -> bool:
    operand = _coerce_like(operand, value)
    if not _comparable(value, operand):
        return False
    return {"gt": value > operand, "gte": value >= operand, "lt": value < operand, "lte": value <= operand}[op]


def wildcard_match(value: str, pattern: str) -> bool:
    """``*`` any run of characters, ``?`` any one; linear in ``value`` (clients write the pattern)."""
    if "?" not in pattern:
        return glob_matcher(pattern)(value)
    regex = "".join(".*" if char == "*" else "." if char == "?" else re.escape(char) for char in pattern)
    return _regex(regex, dot_all=True).fullmatch(value) is not None


def _regex(pattern: str, dot_all: bool = False) -> Regex:
    """A client's regular expression on RE2 (linear time); 400 when RE2 cannot run it."""
    try:
        return compile_regex(pattern, dot_all=dot_all)
    except PatternError as error:
        raise invalid(f"regexp: {error}") from None


def _phrase_in(words: list[str], tokens: list[str], slop: int, prefix: bool) -> bool:
    for start in range(len(tokens)):
        position, ok = start, True
        for index, word in enumerate(words):
            last = prefix and index == len(words) - 1
            window = tokens[position : position + 1 + (slop if index else 0)]
            found = next(
                (offset for offset, token in enumerate(window) if (token.startswith(word) if last else token == word)),
                None,
            )
            if found is None:
                ok = False
                break
            position += found + 1
        if ok:
            return True
    return False


def _replace_path(source: Mapping[str, Any], parts: list[str], element: Any) -> dict[str, Any]:
    copy = dict(source)
    if len(parts) == 1:
        copy[parts[0]] = element
        return copy
    child = source.get(parts[0])
    copy[parts[0]] = _replace_path(child if isinstance(child, Mapping) else {}, parts[1:], element)
    return copy


# --- sorting and source filtering ----------------------------------------------------------------


def sort_specs(sort: Any) -> list[tuple[str, str, str]]:
    """Normalise a sort clause into ``(field, order, missing)`` triples."""
    specs = []
    for item in sort if isinstance(sort, list) else [sort]:
        if isinstance(item, str):
            field, order, missing = item, "desc" if item == "_score" else "asc", "_last"
        else:
            ((field, spec),) = item.items()
            if isinstance(spec, str):
                order, missing = spec, "_last"
            else:
                order = spec.get("order", "desc" if field == "_score" else "asc")
                missing = spec.get("missing", "_last")
                if spec.get("mode") not in (None, "min", "max"):
                    raise _unsupported(f"sort mode {spec.get('mode')!r}")
        specs.append((field, order, missing))
    return specs


def sort_values(evaluator: Evaluator, specs: list[tuple[str, str, str]], document: Document, score: float) -> list[Any]:
    """The values a hit is sorted by (``None`` for a missing field), as Elasticsearch returns them."""
    values: list[Any] = []
    for field, order, _ in specs:
        if field == "_score":
            values.append(score)
        elif field == "_doc":
            values.append(document.sequence)
        elif field == "_id":
            values.append(document.id)
        else:
            spec = evaluator.field(field)
            candidates = [value for value in spec.values(document) if not isinstance(value, (Mapping, list))]
            if any(spec.is_text(value) for value in candidates):
                raise invalid(
                    f"cannot sort on the text field {field!r}: sort on {field}.keyword or map it as a keyword"
                )
            if not candidates:
                values.append(None)
                continue
            keyed = sorted(candidates, key=_sort_value_key)
            values.append(keyed[-1] if order == "desc" else keyed[0])
    return values


def compare_sort_values(specs: list[tuple[str, str, str]], left: list[Any], right: list[Any]) -> int:
    """Order two hits' sort values (missing values last unless ``missing: _first``)."""
    for (_, order, missing), a, b in zip(specs, left, right):
        if a is None or b is None:
            if a is None and b is None:
                continue
            first = missing == "_first"
            return (-1 if first else 1) if a is None else (1 if first else -1)
        ka, kb = _sort_value_key(a), _sort_value_key(b)
        if ka == kb:
            continue
        result = -1 if ka < kb else 1
        return -result if order == "desc" else result
    return 0


def sort_key(specs: list[tuple[str, str, str]]) -> Callable[[list[Any]], Any]:
    return functools.cmp_to_key(lambda a, b: compare_sort_values(specs, a, b))


def filter_source(source: Mapping[str, Any], spec: Any) -> dict[str, Any] | None:
    """Apply a ``_source`` parameter (bool, pattern, list, or includes/excludes), dropping ``__kinto__``."""
    visible = {key: value for key, value in source.items() if key != RESERVED_FIELD}
    if spec is False:
        return None
    if spec is True or spec is None:
        return visible
    includes: list[str]
    excludes: list[str] = []
    if isinstance(spec, str):
        includes = [spec]
    elif isinstance(spec, list):
        includes = [str(item) for item in spec]
    else:
        raw_includes = spec.get("includes", spec.get("include", []))
        raw_excludes = spec.get("excludes", spec.get("exclude", []))
        includes = [raw_includes] if isinstance(raw_includes, str) else list(raw_includes)
        excludes = [raw_excludes] if isinstance(raw_excludes, str) else list(raw_excludes)
    return _filter_object(visible, "", includes, excludes)


def _filter_object(value: Mapping[str, Any], prefix: str, includes: list[str], excludes: list[str]) -> dict[str, Any]:
    kept: dict[str, Any] = {}
    for key, item in value.items():
        path = f"{prefix}.{key}" if prefix else key
        if any(fnmatch.fnmatchcase(path, pattern) for pattern in excludes):
            continue
        included = not includes or any(
            fnmatch.fnmatchcase(path, pattern) or fnmatch.fnmatchcase(path, pattern + ".*") for pattern in includes
        )
        if included:
            kept[key] = _filter_object(item, path, [], excludes) if isinstance(item, Mapping) and excludes else item
        elif isinstance(item, Mapping):
            child = _filter_object(item, path, includes, excludes)
            if child:
                kept[key] = child
    return kept
