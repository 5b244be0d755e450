"""Translating filters, pagination rules and sorting into SQL, for the SQLite and PostgreSQL backends.

:class:`QueryBuilder` holds the semantics (those of :mod:`kinto.core.storage.query`);
a :class:`Dialect` says how one database reads a JSON field: its type, its
rank in the sort order, its scalar value, array membership. Values always
travel as bound parameters; field paths too.
"""

from __future__ import annotations

import abc
from typing import Any, ClassVar

from kinto.core.storage import COMPARISON, MISSING, Filter, Sort
from kinto.core.storage import query as q
from kinto.core.storage.exceptions import InvalidValueError

__all__ = ["Dialect", "QueryBuilder", "escape_like"]

C = COMPARISON
_SQL_OPERATORS = {C.LT: "<", C.MAX: "<=", C.MIN: ">=", C.GT: ">", C.EQ: "="}
# JSON type names, as PostgreSQL's jsonb_typeof spells them.
_KIND_OF_RANK = {q.RANK_NULL: "null", q.RANK_STRING: "string", q.RANK_NUMBER: "number", q.RANK_BOOLEAN: "boolean"}
_KIND_OF_RANK.update({q.RANK_ARRAY: "array", q.RANK_OBJECT: "object"})


def escape_like(text: str) -> str:
    """Escape LIKE's own wildcards (``%``, ``_``) and the escape character ``\\``."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def like_pattern(operand: str) -> str:
    """The SQL LIKE pattern (escape ``\\``) of a contract ``like`` operand, lower-cased."""
    if "*" not in operand:
        operand = f"*{operand}*"
    return "%".join(escape_like(part) for part in operand.lower().split("*"))


class Dialect(abc.ABC):
    """How one database reads JSON documents stored in a ``data`` column."""

    def adapt(self, value: Any) -> Any:
        """A bound value as the driver should receive it (identity by default)."""
        return value

    @abc.abstractmethod
    def placeholder(self, name: str) -> str:
        """The marker of the named parameter ``name``."""

    @abc.abstractmethod
    def path(self, field: str) -> Any:
        """The bound parameter naming the dotted ``field`` inside ``data``."""

    @abc.abstractmethod
    def kind(self, path: str) -> str:
        """SQL giving the JSON type name (null, string, number, boolean, array, object) or NULL if missing."""

    @abc.abstractmethod
    def rank(self, path: str) -> str:
        """SQL giving the field's rank in the sort order (6 when missing)."""

    @abc.abstractmethod
    def scalar(self, path: str, kind: str) -> str:
        """SQL giving the value of a field of that kind (string, number, boolean), comparable with a parameter."""

    @abc.abstractmethod
    def sort_parts(self, path: str) -> list[str]:
        """SQL expressions ordering values of equal rank (NULL for arrays, objects, missing)."""

    @abc.abstractmethod
    def json_text(self, path: str) -> str:
        """SQL comparing the field (array or object) as JSON with a parameter built by ``json_param``."""

    @abc.abstractmethod
    def json_param(self, value: Any) -> Any:
        """The parameter ``json_text`` compares with."""

    @abc.abstractmethod
    def lower(self, expression: str) -> str:
        """SQL lower-casing a text expression as Python's ``str.lower`` does."""

    @abc.abstractmethod
    def array_has(self, builder: QueryBuilder, field: str, values: list[Any], every: bool) -> str:
        """SQL: the field is an array holding every (or any) of ``values``."""

    @abc.abstractmethod
    def column_in(self, builder: QueryBuilder, column: str, kind: str, values: list[Any]) -> str:
        """SQL: the ``column`` (of ``kind`` string or number) equals one of ``values`` (of that kind).

        ``values`` may hold hundreds of thousands of ids (the objects shared one by one
        with a user): bind them as ONE parameter, never as a chain of ORs, which
        databases refuse (SQLite: "Expression tree is too large") or plan slowly.
        """

    # --- the sort key, for declared fields (optional) -----------------------------------------------

    #: The dialect writes sort keys; without, declared fields are written as the others.
    has_sort_key: ClassVar[bool] = False

    def sort_key(self, builder: QueryBuilder, field: str) -> str:
        """SQL of the data field's *sort key*: one expression whose order is the contract's sort order
        (ties aside, see ``key_is_lossy``), on which declared fields are indexed. A database that
        matches an index's expression only to the same text (SQLite) writes the path literally."""
        raise NotImplementedError

    def sort_key_of(self, builder: QueryBuilder, value: Any) -> str:
        """SQL of the sort key of a value (MISSING included), a constant for the planner."""
        raise NotImplementedError

    def key_bound(self, rank: int, upper: bool) -> str:
        """SQL of a key above (``upper``) or below every key of values of that rank."""
        raise NotImplementedError

    def key_is_lossy(self, value: Any) -> bool:
        """Whether the key of ``value`` may equal the key of another value (a truncated string):
        rows sorted by such keys are sorted again exactly. False by default."""
        return False

    def scalar_equals(self, builder: QueryBuilder, field: str, value: Any) -> str:
        """SQL: the field equals the scalar ``value`` (type-aware). Dialects may use an index-friendly form."""
        kind = _KIND_OF_RANK[q.type_rank(value)]
        path = builder.add(self.path(field))
        if kind == "null":
            return f"({self.kind(path)} = 'null')"
        return f"({self.kind(path)} = '{kind}' AND {self.scalar(path, kind)} = {builder.add(value)})"


class QueryBuilder:
    """Collects SQL conditions and their parameters for one statement."""

    def __init__(
        self, dialect: Dialect, id_field: str, modified_field: str, indexed: frozenset[str] = frozenset()
    ) -> None:
        self.dialect = dialect
        self.id_field = id_field
        self.modified_field = modified_field
        self.params: dict[str, Any] = {}
        #: Data fields written through their sort key, for their declared index to serve.
        self.indexed = indexed if dialect.has_sort_key else frozenset()

    def add(self, value: Any) -> str:
        """Bind ``value`` and return its placeholder."""
        name = f"p{len(self.params)}"
        self.params[name] = self.dialect.adapt(value)
        return self.dialect.placeholder(name)

    # --- filters= -------------------------------------------------------------------------------

    def filters(self, filters: list[Filter] | None) -> str:
        """SQL for the AND of ``filters`` (``TRUE``-like when empty)."""
        normalized = [q.normalize_filter(f, self.id_field, self.modified_field) for f in filters or []]
        return " AND ".join(self._condition(f) for f in normalized) or "1 = 1"

    def _column(self, field: str) -> tuple[str, str] | None:
        if field == self.id_field:
            return "id", "string"
        if field == self.modified_field:
            return "last_modified", "number"
        return None

    def _key(self, field: str) -> str | None:
        """SQL of the sort key of a declared data field; None for other fields."""
        if field not in self.indexed:
            return None
        return self.dialect.sort_key(self, field)

    def _through_key(self, field: str, operand: Any, operator: COMPARISON, exact: str) -> str:
        """On a declared field, the comparison as a range of its key, which its index scans.

        Comparing with the key of an operand that is not lossy is exact, lossy keys of stored
        values included (they keep their order with every other key). A lossy operand's key only
        bounds the range (never strictly), and ``exact`` decides. Without the redundant ``exact``
        the planner also estimates the range from the index's statistics, and reads a first page
        in index order instead of sorting every match.
        """
        key = self._key(field)
        if key is None:
            return exact
        value = self.dialect.sort_key_of(self, operand)
        lossy = self.dialect.key_is_lossy(operand)
        rank = q.type_rank(operand)
        if operator == C.EQ:
            return f"({key} = {value} AND {exact})" if lossy else f"({key} = {value})"
        inclusive = lossy or operator in (C.MAX, C.MIN)
        if operator in (C.LT, C.MAX):
            bounds = (
                f"{key} {'<=' if inclusive else '<'} {value} AND {key} >= {self.dialect.key_bound(rank, upper=False)}"
            )
        else:
            bounds = (
                f"{key} {'>=' if inclusive else '>'} {value} AND {key} <= {self.dialect.key_bound(rank, upper=True)}"
            )
        return f"({bounds} AND {exact})" if lossy else f"({bounds})"

    def sorted_by_lossy_keys(self, objects: list[dict[str, Any]], sorting: list[Sort] | None) -> bool:
        """Whether rows ordered by the keys of declared fields may be out of order (see ``key_is_lossy``)."""
        fields = [field for field, _ in sorting or [] if field in self.indexed]
        return any(self.dialect.key_is_lossy(q.field_value(obj, f)) for f in fields for obj in objects)

    def _equals(self, field: str, value: Any) -> str:
        column = self._column(field)
        rank = q.type_rank(value)
        if column is not None:
            name, kind = column
            return f"({name} = {self.add(value)})" if _KIND_OF_RANK.get(rank) == kind else "(1 = 0)"
        if rank in (q.RANK_ARRAY, q.RANK_OBJECT):
            path = self.add(self.dialect.path(field))
            kind = _KIND_OF_RANK[rank]
            return (
                f"({self.dialect.kind(path)} = '{kind}' AND "
                f"{self.dialect.json_text(path)} = {self.add(self.dialect.json_param(value))})"
            )
        return self._through_key(field, value, C.EQ, self.dialect.scalar_equals(self, field, value))

    def _condition(self, filter_: Filter) -> str:
        field, operand, operator = filter_
        if operator == C.EQ:
            return self._equals(field, operand)
        if operator == C.NOT:
            return f"(NOT COALESCE({self._equals(field, operand)}, 1 = 0))"
        if operator == C.IN:
            return self._any_of(field, operand)
        if operator == C.EXCLUDE:
            return f"(NOT COALESCE({self._any_of(field, operand)}, 1 = 0))"
        if operator == C.HAS:
            return self._has(field, operand)
        if operator == C.LIKE:
            return self._like(field, operand)
        if operator in (C.CONTAINS, C.CONTAINS_ANY):
            if self._column(field) is not None:
                return "(1 = 0)"
            if operator == C.CONTAINS_ANY and not operand:
                return "(1 = 0)"
            return self.dialect.array_has(self, field, operand, every=operator == C.CONTAINS)
        if operator in q.ORDERING_OPERATORS:
            return self._ordering(field, operand, operator)
        raise InvalidValueError(f"Unknown filter operator {operator!r}")

    def _any_of(self, field: str, values: list[Any]) -> str:
        column = self._column(field)
        if column is None:
            return "(" + (" OR ".join(self._equals(field, v) for v in values) or "1 = 0") + ")"
        name, kind = column
        # Values of another JSON type never equal the column's (as ``_equals`` says).
        if kind == "string" and all(type(v) is str for v in values):
            matching = values  # ids, the common case: skip the type test of each value
        else:
            matching = [v for v in values if _KIND_OF_RANK.get(q.type_rank(v)) == kind]
        if kind == "number":
            # Stamps are integers: 5.0 is 5, 5.5 is nothing stored.
            matching = [int(v) for v in matching if isinstance(v, int) or v.is_integer()]
        if not matching:
            return "(1 = 0)"
        return self.dialect.column_in(self, name, kind, list(dict.fromkeys(matching)))

    def _has(self, field: str, wanted: bool) -> str:
        if self._column(field) is not None:
            return "(1 = 1)" if wanted else "(1 = 0)"
        expression = self.dialect.kind(self.add(self.dialect.path(field)))
        return f"({expression} IS {'NOT ' if wanted else ''}NULL)"

    def _like(self, field: str, operand: str) -> str:
        pattern = like_pattern(operand)
        column = self._column(field)
        if column is not None:
            if column[1] != "string":
                return "(1 = 0)"
            return f"({self.dialect.lower(column[0])} LIKE {self.add(pattern)} ESCAPE '\\')"
        path = self.add(self.dialect.path(field))
        kind, value = self.dialect.kind(path), self.dialect.scalar(path, "string")
        return f"({kind} = 'string' AND {self.dialect.lower(value)} LIKE {self.add(pattern)} ESCAPE '\\')"

    def _ordering(self, field: str, operand: Any, operator: COMPARISON) -> str:
        rank = q.type_rank(operand)
        kind = _KIND_OF_RANK.get(rank)
        sql_operator = _SQL_OPERATORS[operator]
        column = self._column(field)
        if column is not None:
            name, column_kind = column
            return f"({name} {sql_operator} {self.add(operand)})" if kind == column_kind else "(1 = 0)"
        if kind == "null":
            if operator in (C.MIN, C.MAX):
                exact = f"({self.dialect.kind(self.add(self.dialect.path(field)))} = 'null')"
                return self._through_key(field, operand, C.EQ, exact)
            return "(1 = 0)"
        if kind not in ("string", "number", "boolean"):
            return "(1 = 0)"
        path = self.add(self.dialect.path(field))
        type_check, value = self.dialect.kind(path), self.dialect.scalar(path, kind)
        exact = f"({type_check} = '{kind}' AND {value} {sql_operator} {self.add(operand)})"
        return self._through_key(field, operand, operator, exact)

    # --- pagination_rules= ---------------------------------------------------------------------

    def pagination(self, rules: list[list[Filter]] | None) -> str:
        """SQL for the OR of AND-ed pagination rules (comparisons in the sort order)."""
        if not rules:
            return "1 = 1"
        alternatives = []
        normalized_rules = []
        for rule in rules:
            normalized = [q.normalize_filter(f, self.id_field, self.modified_field) for f in rule]
            normalized_rules.append(normalized)
            alternatives.append(" AND ".join(self._keyset(f) for f in normalized) or "1 = 1")
        either = "(" + " OR ".join(f"({a})" for a in alternatives) + ")"
        bound = self._keyset_bound(normalized_rules)
        return either if bound is None else f"({bound} AND {either})"

    def _keyset_bound(self, rules: list[list[Filter]]) -> str | None:
        """The key range every rule implies on a declared leading sort field (its index starts there).

        Rules built from a page's last object compare the same leading field with the same
        value in each (``EQ`` in all but the last, ``GT`` or ``LT`` there).
        """
        if not all(rules) or rules[0][0].field not in self.indexed:
            return None
        field, operand = rules[0][0].field, rules[0][0].value
        operators = set()
        for rule in rules:
            first = rule[0]
            if first.field != field or q.sort_key(first.value) != q.sort_key(operand):
                return None
            operators.add(first.operator)
        if operators <= {C.EQ, C.LT, C.MAX}:
            comparison = "<="
        elif operators <= {C.EQ, C.GT, C.MIN}:
            comparison = ">="
        else:
            return None
        return f"({self._key(field)} {comparison} {self.dialect.sort_key_of(self, operand)})"

    def _keyset(self, filter_: Filter) -> str:
        field, operand, operator = filter_
        if operator not in (*q.ORDERING_OPERATORS, C.EQ):
            return self._condition(filter_)
        rank = q.type_rank(operand)
        kind = _KIND_OF_RANK.get(rank) if rank in (q.RANK_STRING, q.RANK_NUMBER, q.RANK_BOOLEAN) else None
        inclusive = _SQL_OPERATORS[operator]
        column = self._column(field)
        if column is not None:
            name, column_kind = column
            if kind == column_kind:
                return f"({name} {inclusive} {self.add(operand)})"
            column_rank = q.RANK_STRING if column_kind == "string" else q.RANK_NUMBER
            # Only ranks differ: the answer is the same for every row.
            holds = {
                C.EQ: column_rank == rank,
                C.LT: column_rank < rank,
                C.MAX: column_rank <= rank,
                C.MIN: column_rank >= rank,
                C.GT: column_rank > rank,
            }[operator]
            return "(1 = 1)" if holds else "(1 = 0)"
        path = self.add(self.dialect.path(field))
        rank_sql = self.dialect.rank(path)
        if kind is None:
            return f"({rank_sql} {inclusive} {rank})"
        tie = f"{self.dialect.scalar(path, kind)} {inclusive} {self.add(operand)}"
        if operator == C.EQ:
            return f"({rank_sql} = {rank} AND {tie})"
        strict = "<" if operator in (C.LT, C.MAX) else ">"
        return f"({rank_sql} {strict} {rank} OR ({rank_sql} = {rank} AND {tie}))"

    # --- sorting= ----------------------------------------------------------------------------------

    def order_by(self, sorting: list[Sort] | None) -> str:
        """SQL ORDER BY terms for ``sorting`` plus the id tie-breaker (and the location, for wildcards)."""
        terms = []
        for field, direction in q.sorting_with_tie_breaker(sorting, self.id_field):
            suffix = " DESC" if direction < 0 else " ASC"
            column = self._column(field)
            if column is not None:
                terms.append(column[0] + suffix)
                continue
            key = self._key(field)
            if key is not None:
                terms.append(key + suffix)
                continue
            path = self.add(self.dialect.path(field))
            terms.append(self.dialect.rank(path) + suffix)
            for part in self.dialect.sort_parts(path):
                terms.append(part + suffix)
        terms += ["parent_id ASC", "resource_name ASC"]
        return ", ".join(terms)


def reject_missing(value: Any) -> None:
    """Filters of ``filters=`` never carry MISSING (only pagination rules do)."""
    if value is MISSING:
        raise InvalidValueError("MISSING is only meaningful in pagination rules")
