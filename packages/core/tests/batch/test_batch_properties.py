"""Rules of the batch payload checked on generated values: merging defaults, prefixing paths,
and no payload whatsoever answering anything but a batch or a 400."""

import json

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kinto.core.views.batch import (
    REQUEST_BODY_SCHEMA,
    RESPONSE_BODY_SCHEMA,
    VALID_METHODS,
    BatchInvalid,
    SubRequestSpec,
    merge_defaults,
    parse_batch_payload,
    prefixed_path,
)

from .conftest import build_app

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=4), children, max_size=3),
    max_leaves=12,
)
json_objects = st.dictionaries(st.sampled_from("abcd"), json_values, max_size=4) | st.dictionaries(
    st.sampled_from("abcd"), st.dictionaries(st.sampled_from("abcd"), json_values, max_size=3), max_size=3
)


@given(request=json_objects, defaults=json_objects)
def test_merging_keeps_the_requests_values_and_adds_the_missing_defaults(request, defaults):
    merged = merge_defaults(request, defaults)
    assert set(merged) == set(request) | set(defaults)
    for key, value in merged.items():
        if key not in request:
            assert value == defaults[key]
        elif isinstance(request[key], dict) and isinstance(defaults.get(key), dict):
            assert value == merge_defaults(request[key], defaults[key])
        else:
            assert value == request[key]


@given(request=json_objects, defaults=json_objects)
def test_merging_is_idempotent_and_leaves_its_inputs_alone(request, defaults):
    request_copy, defaults_copy = repr(request), repr(defaults)
    merged = merge_defaults(request, defaults)
    assert merge_defaults(merged, defaults) == merged
    assert (repr(request), repr(defaults)) == (request_copy, defaults_copy)


@given(path=st.text(max_size=12).map(lambda text: "/" + text))
def test_prefixing_a_path_is_idempotent_and_always_under_the_prefix(path):
    prefixed = prefixed_path(path, "/v1")
    assert prefixed == "/v1" or prefixed.startswith(("/v1/", "/v1?"))
    assert prefixed_path(prefixed, "/v1") == prefixed
    assert prefixed in (path, "/v1" + path)


@given(payload=json_values | st.dictionaries(st.sampled_from(["requests", "defaults", "x"]), json_values))
def test_any_json_payload_either_parses_or_is_invalid(payload):
    try:
        specs = parse_batch_payload(payload, max_requests=5)
    except BatchInvalid as invalid:
        assert invalid.problems
        assert all(isinstance(name, str) and isinstance(text, str) for name, text in invalid.problems)
        return
    assert isinstance(payload, dict)
    assert len(specs) == len(payload["requests"])
    assert all(isinstance(spec, SubRequestSpec) and spec.path.startswith("/") for spec in specs)


def mostly(plausible, junk):
    """Generated values are plausible nine times out of ten, so that most batches run."""
    return st.integers(0, 9).flatmap(lambda draw: junk if draw == 0 else plausible)


paths = st.sampled_from(["/", "/echo", "/items", "/items/x", "/nowhere", "/v1/echo?a=1", "/batch"]) | st.text(
    st.characters(blacklist_characters="\x00"), max_size=8
).map(lambda text: "/items/" + text)
methods = mostly(st.sampled_from(VALID_METHODS), st.text(max_size=4) | json_scalars)
header_names = st.sampled_from(
    ["Content-Type", "Content-Length", "Authorization", "Host", "Origin", "If-Match", "Transfer-Encoding", "X-A"]
)
header_values = st.text(st.characters(min_codepoint=32, max_codepoint=0x2FF), max_size=8)
headers = mostly(
    st.dictionaries(header_names, header_values, max_size=3),
    st.dictionaries(st.text(max_size=6), st.text(max_size=6) | st.integers(), max_size=2),
)
bodies = mostly(st.dictionaries(st.sampled_from(["data", "permissions"]), json_objects, max_size=2), json_values)
sub_requests = mostly(
    st.fixed_dictionaries({"path": paths}, optional={"method": methods, "headers": headers, "body": bodies}),
    st.fixed_dictionaries({}, optional={"path": paths, "other": json_values}) | json_values,
)
payloads = st.fixed_dictionaries(
    {"requests": mostly(st.lists(sub_requests, max_size=4), json_values)},
    optional={"defaults": st.fixed_dictionaries({}, optional={"method": methods, "headers": headers, "body": bodies})},
)


REQUESTS = jsonschema.Draft202012Validator(REQUEST_BODY_SCHEMA)
RESPONSES = jsonschema.Draft202012Validator(RESPONSE_BODY_SCHEMA)


def has_paths(payload):
    defaults = payload.get("defaults", {})
    return all("path" in request or "path" in defaults for request in payload["requests"])


@settings(max_examples=300)
@given(payload=payloads)
def test_the_published_schema_accepts_exactly_the_payloads_the_view_parses(payload):
    try:
        parse_batch_payload(payload)
        parsed = True
    except BatchInvalid:
        parsed = False
    assert parsed == (REQUESTS.is_valid(payload) and has_paths(payload))


@pytest.fixture(scope="module")
def memory_app():
    return build_app({})


def _is_json_text(raw):
    """Whether ``raw`` is JSON whose strings are all Unicode text (no NaN/Infinity, no lone surrogate)."""

    def refuse(name):
        raise ValueError(name)

    try:
        json.dumps(json.loads(raw, parse_constant=refuse), ensure_ascii=False).encode("utf-8")
    except (ValueError, UnicodeEncodeError):
        return False
    return True


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(payload=payloads)
def test_no_payload_makes_the_batch_crash(memory_app, payload):
    response = memory_app.post_json("/v1/batch", payload, expect_errors=True)
    assert response.status_code in (200, 400), response.text
    body = response.json
    if response.status_code == 400 and not _is_json_text(response.request.body.decode()):
        # Not JSON text (Infinity, lone surrogates): refused before the batch reads it.
        assert body["errno"] == 107 and body["details"][0]["description"].startswith("Invalid JSON")
    elif response.status_code == 400:
        assert body["errno"] == 107 and body["details"]
    else:
        RESPONSES.validate(body)
        assert all(sub["status"] < 500 for sub in body["responses"])
