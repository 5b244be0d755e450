"""The query string syntax of ``query_string`` and ``simple_query_string``, for the embedded indexer.

Supported: words, ``"phrases"``, ``field:value`` (``field:"a phrase"``,
``field:(a b)``), ``field:>n`` (``>``, ``>=``, ``<``, ``<=``), ``*`` and ``?``
wildcards, ``*:*``, ``AND``/``&&``, ``OR``/``||``, ``NOT``/``!``, ``+``/``-``
prefixes and parentheses; ``simple_query_string`` reads ``|`` as OR and ``+``
as AND, and has no ``field:``. Clauses combine as Lucene's classic parser does
(``default_operator`` between bare clauses; a query made only of negations
matches everything else).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from kinto_elasticsearch.evaluation import Document, Score, invalid, wildcard_match

if TYPE_CHECKING:
    from kinto_elasticsearch.evaluation import Evaluator

__all__ = ["evaluate"]


def evaluate(
    evaluator: Evaluator, text: str, document: Document, fields: list[str], operator: str, *, simple: bool
) -> Score:
    """The document's score for a query string (``None``: no match)."""
    tree = _QueryStringParser(text, simple=simple).parse()
    return _eval_query_string(evaluator, tree, document, fields, operator)


_QS_TOKEN = re.compile(r'\s*(?:(?P<open>\()|(?P<close>\))|(?P<phrase>"(?:[^"\\]|\\.)*")|(?P<word>(?:[^\s()"\\]|\\.)+))')


class _QueryStringParser:
    """Parses the query string syntax into ``("bool", [(occur, node)])``, ``("word", field, text)``,
    ``("phrase", field, text)`` and ``("range", field, op, value)`` nodes."""

    def __init__(self, text: str, simple: bool) -> None:
        self.tokens = self._tokenize(text)
        self.position = 0
        self.simple = simple

    @staticmethod
    def _tokenize(text: str) -> list[tuple[str, str]]:
        tokens = []
        position = 0
        while position < len(text):
            match = _QS_TOKEN.match(text, position)
            if not match or match.end() == position:
                if text[position:].strip():
                    raise invalid(f"query_string: cannot parse {text[position:]!r}")
                break
            kind = match.lastgroup or ""
            tokens.append((kind, match.group(kind)))
            position = match.end()
        return tokens

    def parse(self) -> tuple[Any, ...]:
        node = self._clauses()
        if self.position < len(self.tokens):
            raise invalid("query_string: unbalanced parentheses")
        return node

    def _clauses(self) -> tuple[Any, ...]:
        clauses: list[list[Any]] = []
        conjunction = None
        while self.position < len(self.tokens):
            kind, text = self.tokens[self.position]
            if kind == "close":
                break
            if (
                kind == "word"
                and text in ("AND", "&&", "OR", "||")
                and not self.simple
                or (self.simple and kind == "word" and text in ("|", "+"))
            ):
                conjunction = "and" if text in ("AND", "&&", "+") else "or"
                self.position += 1
                continue
            occur = None
            if kind == "word" and text in ("NOT", "!") and not self.simple:
                occur = "must_not"
                self.position += 1
                kind, text = self.tokens[self.position] if self.position < len(self.tokens) else ("", "")
            elif kind == "word" and text[0] in "+-!" and len(text) > 1:
                occur = "must_not" if text[0] in "-!" else "must"
                text = text[1:]
                self.tokens[self.position] = (kind, text)
            node = self._clause()
            if node is None:
                break
            if conjunction == "and" and clauses and clauses[-1][0] is None:
                clauses[-1][0] = "must"
            if occur is None and conjunction == "and":
                occur = "must"
            if conjunction == "or" and clauses and clauses[-1][0] == "must" and clauses[-1][2]:
                clauses[-1][0] = None
            clauses.append([occur, node, conjunction == "and"])
            conjunction = None
        return ("bool", [(occur, node) for occur, node, _ in clauses])

    def _clause(self) -> tuple[Any, ...] | None:
        if self.position >= len(self.tokens):
            return None
        kind, text = self.tokens[self.position]
        self.position += 1
        if kind == "open":
            node = self._clauses()
            if self.position >= len(self.tokens) or self.tokens[self.position][0] != "close":
                raise invalid("query_string: unbalanced parentheses")
            self.position += 1
            return node
        if kind == "phrase":
            return ("phrase", None, _unescape(text[1:-1]))
        field, value = None, text
        match = re.match(r"((?:[^:\\]|\\.)+):(.*)$", text) if not self.simple else None
        if match:
            field, value = _unescape(match.group(1)), match.group(2)
            if not value and self.position < len(self.tokens):
                kind, value = self.tokens[self.position]
                self.position += 1
                if kind == "phrase":
                    return ("phrase", field, _unescape(value[1:-1]))
                if kind == "open":
                    self.position -= 1
                    return ("field", field, self._clause())
        comparison = re.match(r"(>=|<=|>|<)(.+)$", value)
        if field and comparison:
            return ("range", field, comparison.group(1), _unescape(comparison.group(2)))
        return ("word", field, value)


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def _eval_query_string(
    evaluator: Evaluator,
    node: tuple[Any, ...],
    document: Document,
    fields: list[str],
    operator: str,
    field: str | None = None,
) -> Score:
    kind = node[0]
    if kind == "bool":
        return _eval_qs_bool(evaluator, node[1], document, fields, operator, field)
    if kind == "field":
        return _eval_query_string(evaluator, node[2], document, fields, operator, node[1])
    if node[0] == "word" and node[1] == "*" and node[2] == "*":
        return 1.0  # Lucene's *:* matches every document
    named = node[1] or field
    targets = (
        [(named, 1.0)]
        if named and "*" not in named
        else evaluator.expand_fields([named] if named else fields, document)
    )
    best: Score = None
    for path, boost in targets:
        score = _eval_qs_leaf(evaluator, node, path, document)
        if score is not None and (best is None or score * boost > best):
            best = score * boost
    return best


def _eval_qs_bool(
    evaluator: Evaluator,
    clauses: list[tuple[str | None, Any]],
    document: Document,
    fields: list[str],
    operator: str,
    field: str | None,
) -> Score:
    default = "must" if operator == "and" else "should"
    total, should_count, should_hit, positive = 0.0, 0, 0, False
    for occur, child in clauses:
        occur = occur or default
        score = _eval_query_string(evaluator, child, document, fields, operator, field)
        if occur == "must_not":
            if score is not None:
                return None
            continue
        positive = True
        if occur == "must":
            if score is None:
                return None
            total += score
        else:
            should_count += 1
            if score is not None:
                should_hit += 1
                total += score
    has_must = any((occur or default) == "must" for occur, _ in clauses)
    if should_count and not has_must and not should_hit:
        return None
    return total if positive else 1.0


def _eval_qs_leaf(evaluator: Evaluator, node: tuple[Any, ...], path: str, document: Document) -> Score:
    if node[0] == "phrase":
        return evaluator.phrase_field(path, {"query": node[2]}, document)
    if node[0] == "range":
        op = {">": "gt", ">=": "gte", "<": "lt", "<=": "lte"}[node[2]]
        return evaluator.range_query({path: {op: node[3]}}, document)
    text = _unescape(node[2])
    if text == "*":
        return 1.0 if evaluator.has_value(path, document) else None
    if "*" in text or "?" in text:
        field = evaluator.field(path)
        pattern = text.lower() if field.kind != "keyword" else text
        return evaluator.string_query({path: {"value": pattern}}, document, wildcard_match)
    return evaluator.match_field(path, {"query": text}, document)
