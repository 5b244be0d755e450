"""A plain-Python reference of the query semantics the storage contract states (filters, sort order).

Used to check what the HTTP endpoints answer; it favours obviousness over speed.
"""

import functools
import re

MISSING = object()

# null < strings < numbers < booleans < arrays < objects < missing
_RANKS = ((type(None), 0), (str, 1), (bool, 3), ((int, float), 2), (list, 4), (dict, 5))


def field_value(obj, field):
    current = obj
    for part in field.split("."):
        if not isinstance(current, dict) or part not in current:
            return MISSING
        current = current[part]
    return current


def type_rank(value):
    if value is MISSING:
        return 6
    for types, rank in _RANKS:
        if isinstance(value, types):
            return rank
    raise TypeError(value)


def compare(a, b):
    """-1, 0 or 1 in the contract's total order (arrays all rank equal, and so do objects)."""
    rank_a, rank_b = type_rank(a), type_rank(b)
    if rank_a != rank_b:
        return -1 if rank_a < rank_b else 1
    if rank_a in (0, 4, 5, 6):
        return 0
    return (a > b) - (a < b)


def same(a, b):
    """Typed JSON equality: 1 == 1.0, but 1, "1", true and null all differ."""
    if type_rank(a) != type_rank(b):
        return False
    return a == b


def sort_objects(objects, sorting, id_field="id"):
    """``sorting`` is ``[(field, direction), ...]``; ties go by id, in the last key's direction
    (what the resource framework appends when the sort does not name the id)."""
    keys = list(sorting)
    if not any(field == id_field for field, _ in keys):
        keys.append((id_field, keys[-1][1] if keys else -1))

    def cmp(x, y):
        for field, direction in keys:
            result = compare(field_value(x, field), field_value(y, field))
            if result:
                return result * direction
        return 0

    return sorted(objects, key=functools.cmp_to_key(cmp))


def _like(value, pattern):
    if not isinstance(value, str):
        return False
    if "*" not in pattern:
        pattern = f"*{pattern}*"
    regexp = ".*".join(re.escape(part) for part in pattern.split("*"))
    return re.fullmatch(regexp, value, flags=re.IGNORECASE | re.DOTALL) is not None


def matches(obj, field, operator, operand):
    """Whether ``obj`` passes the filter ``<operator>_<field>=<operand>`` (operand already decoded)."""
    value = field_value(obj, field)
    if operator == "eq":
        return value is not MISSING and same(value, operand)
    if operator == "not":
        return not matches(obj, field, "eq", operand)
    if operator == "in":
        return value is not MISSING and any(same(value, item) for item in operand)
    if operator == "exclude":
        return not matches(obj, field, "in", operand)
    if operator in ("lt", "gt", "min", "max"):
        # Same type only; every backend compares null with null (min_/max_ match, lt_/gt_ do not).
        if value is MISSING or type_rank(value) != type_rank(operand) or type_rank(value) in (4, 5):
            return False
        result = compare(value, operand)
        return {"lt": result < 0, "gt": result > 0, "min": result >= 0, "max": result <= 0}[operator]
    if operator == "has":
        return (value is not MISSING) == bool(operand)
    if operator == "like":
        return _like(value, operand)
    if operator == "contains":
        return isinstance(value, list) and all(any(same(item, wanted) for item in value) for wanted in operand)
    if operator == "contains_any":
        return isinstance(value, list) and any(any(same(item, wanted) for item in value) for wanted in operand)
    raise ValueError(operator)
