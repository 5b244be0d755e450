"""Querystring parsing for plural endpoints: filters, sorting, fields, limit, pagination tokens.

Pagination tokens are opaque to clients: base64url of a small JSON document
(the last object's sort values, a digest of the filters and sorting they were
issued for, an expiry), signed with HMAC. A token that does not decode, is not
signed by this server, has expired, or was issued for another query is a 400.
Tokens are stateless: nothing is stored per token.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import hmac
import json
import math
import re
import time
from collections.abc import Mapping
from typing import Any

from kinto.core.storage import COMPARISON, MISSING, Filter, Sort
from kinto.core.storage.query import field_value

__all__ = [
    "InvalidQuery",
    "ListQuery",
    "decode_token",
    "encode_token",
    "native_value",
    "next_page_params",
    "pagination_rules",
    "parse_fields",
    "parse_filters",
    "parse_list_query",
    "parse_sorting",
]

_OPERATORS = {op.name.lower(): op for op in COMPARISON}
_FILTER_PATTERN = re.compile(r"^(" + "|".join(sorted(_OPERATORS, key=len, reverse=True)) + r")_([\w.\-]+)$")
_FIELD_PATTERN = re.compile(r"^[\w\-]+(\.[\w\-]+)*$")
_INTEGER = re.compile(r"-?[0-9]+")  # ASCII only: str.isdigit() also accepts "²", which int() refuses


class InvalidQuery(ValueError):
    """A querystring parameter is invalid; ``name`` is the parameter, ``description`` why."""

    def __init__(self, name: str, description: str) -> None:
        self.name = name
        self.description = description
        super().__init__(f"{name}: {description}")


@dataclasses.dataclass
class ListQuery:
    """What a request to a plural endpoint asks for, parsed from its querystring."""

    filters: list[Filter]
    sorting: list[Sort]
    #: The fields to show (None: all of them).
    fields: list[str] | None
    #: The page size (None: no limit).
    limit: int | None
    #: Where the page starts, from the pagination token (None: the first page).
    rules: list[list[Filter]] | None
    include_deleted: bool
    #: What pagination tokens are bound to: the client's filters and sorting.
    digest: str


def native_value(value: str) -> Any:
    """``"1"`` → 1, ``"true"`` → True, ``"null"`` → None, ``'"1"'`` → "1", anything else as is."""
    if value == "":
        return value
    try:
        decoded = json.loads(value)
    except ValueError:
        return value
    if isinstance(decoded, (dict, list)):
        return value
    if isinstance(decoded, float) and not math.isfinite(decoded):
        return value  # NaN, Infinity, 1e400: not JSON numbers, and no backend compares them alike
    return decoded


def _list_value(value: str) -> list[Any]:
    stripped = value.strip()
    if stripped.startswith("["):
        try:
            decoded = json.loads(stripped)
        except ValueError:
            decoded = None
        if isinstance(decoded, list):
            return decoded
    return [native_value(item) for item in value.split(",")]


def _is_timestamp(value: Any) -> bool:
    """An integer a 64-bit column holds (larger ones make SQL backends fail)."""
    return isinstance(value, int) and not isinstance(value, bool) and -(2**63) <= value < 2**63


def _timestamp(name: str, value: str) -> int:
    cleaned = value.strip('"')
    if not _INTEGER.fullmatch(cleaned) or not _is_timestamp(int(cleaned)):
        raise InvalidQuery(name, f"Invalid value for {name}: {value!r} is not a timestamp")
    return int(cleaned)


def is_valid_text(text: str) -> bool:
    """No NUL, no lone surrogate (JSON escapes like ``"\\ud800"`` give some): what every backend stores."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _check_text(name: str, value: Any) -> None:
    if not is_valid_text(name) or (isinstance(value, str) and not is_valid_text(value)):
        raise InvalidQuery(name, "Invalid character (NUL or lone surrogate)")
    if isinstance(value, list):
        for item in value:
            _check_text(name, item)


def parse_filters(
    params: Mapping[str, str],
    id_field: str = "id",
    modified_field: str = "last_modified",
    is_known_field: Any = None,
) -> tuple[list[Filter], bool]:
    """Filters from the querystring, and whether tombstones were asked for (``_since``/``_before``)."""
    filters: list[Filter] = []
    include_deleted = False
    for raw_name, value in params.items():
        name = raw_name.strip()
        _check_text(name, value)
        if name in ("_since", "_before", "_to"):
            operator = COMPARISON.GT if name == "_since" else COMPARISON.LT
            filters.append(Filter(modified_field, _timestamp(name, value), operator))
            include_deleted = include_deleted or name == "_since"
            continue
        if name.startswith("_"):
            # Parameters of the API (``_sort``...) and unknown ones alike: as Kinto, which clients
            # rely on to pass their own (``_expected``, cache busters), they never filter.
            continue
        match = _FILTER_PATTERN.match(name)
        operator, field = (_OPERATORS[match.group(1)], match.group(2)) if match else (COMPARISON.EQ, name)
        if not _FIELD_PATTERN.match(field):
            raise InvalidQuery(name, f"Invalid field name {field!r}")
        if is_known_field is not None and not is_known_field(field):
            raise InvalidQuery(name, f"Unknown filter field {field!r}")
        built = _build_filter(name, field, operator, value, id_field, modified_field)
        _check_text(name, built.value)  # decoded JSON strings may hold what the raw text escaped
        filters.append(built)
    return filters, include_deleted


def _build_filter(
    name: str, field: str, operator: COMPARISON, value: str, id_field: str, modified_field: str
) -> Filter:
    if operator in (COMPARISON.IN, COMPARISON.EXCLUDE, COMPARISON.CONTAINS, COMPARISON.CONTAINS_ANY):
        parsed: Any = _list_value(value)
    elif operator is COMPARISON.HAS:
        parsed = native_value(value)
        if not isinstance(parsed, bool):
            if value.lower() not in ("0", "1", "true", "false"):
                raise InvalidQuery(name, f"Invalid value for {name}: expected true or false")
            parsed = value.lower() in ("1", "true")
    elif operator is COMPARISON.LIKE:
        parsed = value
    else:
        parsed = native_value(value)
    if field in (id_field, modified_field) and operator in (COMPARISON.CONTAINS, COMPARISON.CONTAINS_ANY):
        raise InvalidQuery(name, f"Field {field!r} is not an array")
    if field == modified_field and operator not in (COMPARISON.HAS,):
        values = parsed if isinstance(parsed, list) else [parsed]
        if not all(_is_timestamp(item) for item in values):
            raise InvalidQuery(name, f"Invalid value for {name}: timestamps are integers")
    if field == id_field and operator in (COMPARISON.IN, COMPARISON.EXCLUDE):
        parsed = [str(item) for item in parsed]
    elif field == id_field and operator in (COMPARISON.EQ, COMPARISON.NOT):
        parsed = value
    return Filter(field, parsed, operator)


def parse_sorting(value: str | None, modified_field: str = "last_modified", is_known_field: Any = None) -> list[Sort]:
    """The sort order; empty items (``_sort=``, ``_sort=a,,b``, a lone ``-``) are skipped, as Kinto."""
    sorting = []
    for item in (value or "").split(","):
        item = item.strip()
        direction = -1 if item.startswith("-") else 1
        field = item.lstrip("-+")
        if not field:
            continue
        if not _FIELD_PATTERN.match(field):
            raise InvalidQuery("_sort", f"Invalid sort field {item!r}")
        if is_known_field is not None and not is_known_field(field):
            raise InvalidQuery("_sort", f"Unknown sort field {field!r}")
        sorting.append(Sort(field, direction))
    return sorting or [Sort(modified_field, -1)]


def parse_fields(value: str | None) -> list[str] | None:
    """The fields of a partial response, None for whole objects (also when ``_fields`` names none)."""
    if value is None:
        return None
    fields = [item.strip() for item in value.split(",") if item.strip()]
    if not fields:
        return None
    for field in fields:
        if not _FIELD_PATTERN.match(field):
            raise InvalidQuery("_fields", f"Invalid field {field!r}")
    return fields


def parse_limit(value: str | None, maximum: int | None) -> int | None:
    """The page size: ``_limit`` capped at ``maximum``; absent, empty or 0 means ``maximum`` (as Kinto)."""
    if value is None or value in ("", "0"):
        return maximum
    if not _INTEGER.fullmatch(value) or int(value) <= 0:
        raise InvalidQuery("_limit", "_limit must be a positive integer")
    limit = int(value)
    return min(limit, maximum) if maximum else limit


def keep_fields(obj: dict[str, Any], fields: list[str], always: tuple[str, ...]) -> dict[str, Any]:
    """Partial response: only ``fields`` (dotted paths) plus ``always``."""
    result: dict[str, Any] = {key: obj[key] for key in always if key in obj}
    for field in fields:
        value = field_value(obj, field)
        if value is MISSING:
            continue
        parts = field.split(".")
        target = result
        for part in parts[:-1]:
            target = target.setdefault(part, {})
            if not isinstance(target, dict):
                break
        else:
            target[parts[-1]] = value
    return result


def pagination_rules(sorting: list[Sort], last: list[Any]) -> list[list[Filter]]:
    """Keyset rules after the object whose sort values are ``last``: an OR of ANDs."""
    rules = []
    for index, sort in enumerate(sorting):
        rule = [Filter(previous.field, last[i], COMPARISON.EQ) for i, previous in enumerate(sorting[:index])]
        operator = COMPARISON.GT if sort.direction > 0 else COMPARISON.LT
        rule.append(Filter(sort.field, last[index], operator))
        rules.append(rule)
    return rules


def query_digest(filters: list[Filter], sorting: list[Sort]) -> str:
    canonical = json.dumps(
        [[[f.field, f.operator.name, f.value] for f in filters], [[s.field, s.direction] for s in sorting]],
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _sign(key: bytes, payload: bytes) -> str:
    return hmac.new(key, payload, hashlib.sha256).hexdigest()[:32]


def encode_token(key: bytes, last_values: list[Any], digest: str, ttl_seconds: int) -> str:
    """A signed token for the page after ``last_values``; ``key`` is the pagination key (``kinto.core.secrets``)."""
    values = [{"m": True} if value is MISSING else {"v": value} for value in last_values]
    payload = json.dumps({"l": values, "q": digest, "e": int(time.time()) + ttl_seconds}, separators=(",", ":"))
    raw = payload.encode()
    token = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    return f"{token}.{_sign(key, raw)}"


def decode_token(key: bytes, token: str, digest: str, expected_length: int) -> list[Any]:
    """The last object's sort values, or ``InvalidQuery`` for any tampered, foreign or expired token."""
    try:
        encoded, signature = token.rsplit(".", 1)
        raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    except (ValueError, binascii.Error):
        raise InvalidQuery("_token", "Invalid pagination token") from None
    # compare_digest refuses non-ASCII text (a TypeError): such a signature is simply not ours.
    if not signature.isascii() or not hmac.compare_digest(_sign(key, raw), signature):
        raise InvalidQuery("_token", "Invalid pagination token")
    try:
        data = json.loads(raw)
        values = [MISSING if item.get("m") else item["v"] for item in data["l"]]
        expiry, issued_for = int(data["e"]), data["q"]
    except (ValueError, KeyError, TypeError, AttributeError):
        raise InvalidQuery("_token", "Invalid pagination token") from None
    if expiry < time.time():
        raise InvalidQuery("_token", "Pagination token has expired")
    if issued_for != digest or len(values) != expected_length:
        raise InvalidQuery("_token", "Pagination token does not match this query")
    return values


def page_size(settings: Mapping[str, Any]) -> int:
    """The largest page a list answers: ``paginate_by``, at most ``storage_max_fetch_size``."""
    paginate_by = settings["paginate_by"]  # no typed default (None): kept as written
    max_fetch = settings["storage_max_fetch_size"]
    return min(int(paginate_by), max_fetch) if paginate_by else max_fetch


def parse_list_query(
    params: Mapping[str, str],
    id_field: str,
    modified_field: str,
    max_limit: int,
    token_key: bytes,
    shared_ids: list[str] | None = None,
    for_delete: bool = False,
) -> ListQuery:
    """The ``ListQuery`` of a plural request; ``InvalidQuery`` names the parameter at fault.

    The sorting always ends on ``id_field`` (pages need a unique tie-breaker); ``shared_ids``
    narrows the list to those objects without changing what tokens are bound to, so objects
    shared between two pages do not invalidate the walk. A delete never lists tombstones.
    """
    filters, include_deleted = parse_filters(params, id_field, modified_field)
    sorting = parse_sorting(params.get("_sort"), modified_field)
    fields = parse_fields(params.get("_fields"))
    limit = parse_limit(params.get("_limit"), max_limit)
    if not any(sort.field == id_field for sort in sorting):
        sorting.append(Sort(id_field, sorting[-1].direction if sorting else -1))
    digest = query_digest(filters, sorting)
    if shared_ids is not None:
        filters.append(Filter(id_field, list(shared_ids), COMPARISON.IN))
    rules = None
    if token := params.get("_token"):
        rules = pagination_rules(sorting, decode_token(token_key, token, digest, len(sorting)))
    return ListQuery(
        filters=filters,
        sorting=sorting,
        fields=fields,
        limit=limit,
        rules=rules,
        include_deleted=include_deleted and not for_delete,
        digest=digest,
    )


def next_page_params(
    params: Any, query: ListQuery, last: dict[str, Any], token_key: bytes, ttl_seconds: int
) -> list[tuple[str, str]]:
    """The querystring of the page after ``last``: the request's own (``params``, a multi-dict),
    with a new ``_token`` and the page size."""
    values = [field_value(last, sort.field) for sort in query.sorting]
    token = encode_token(token_key, values, query.digest, ttl_seconds)
    pairs = [(key, value) for key, value in params.items() if key != "_token"]
    pairs.append(("_token", token))
    if "_limit" not in params and query.limit:
        pairs.append(("_limit", str(query.limit)))
    return pairs
