"""Structured logging: the summary line, renderers swapped by setting, broken renderers contained."""

import datetime
import json
import logging
import uuid

import pytest

from kinto.core.logs import REQUEST_SUMMARY_FIELDS, ClassicLogRenderer, JsonLogRenderer
from kinto.core.testing import basic_auth_header, make_app

from . import renderers_for_tests

MODULE = renderers_for_tests.__name__


def summary_lines(caplog):
    return [r.getMessage() for r in caplog.records if r.name == "request.summary"]


@pytest.fixture(autouse=True)
def capture(caplog):
    caplog.set_level(logging.INFO)


def test_one_classic_summary_line_per_request(caplog):
    app = make_app({"multiauth.policies": "basicauth"})
    app.get("/v1/?_x=1", headers={**basic_auth_header(), "User-Agent": "tests/1.0", "Accept-Language": "fr"})
    lines = summary_lines(caplog)
    assert len(lines) == 1
    line = lines[0]
    assert line.startswith("GET /v1/?_x=1 200 (")
    assert "request.summary" in line
    assert "agent=tests/1.0" in line
    assert "lang=fr" in line
    assert "uid=basicauth:" in line
    assert "errno=0" in line


def test_redacted_query_parameters_keep_their_name_not_their_value(caplog):
    def include(config):
        config.add_redacted_query_parameters("code", "State")

    app = make_app(includes=[include])
    app.get("/v1/?code=s3cr3t&_x=1&STATE=abc&%73tate=def&code&state=", status=200)
    line = summary_lines(caplog)[0]
    assert line.startswith(
        "GET /v1/?code=[redacted]&_x=1&STATE=[redacted]&%73tate=[redacted]&code&state=[redacted] 200"
    )


def test_errors_carry_their_errno_in_the_summary(caplog):
    make_app().get("/v1/missing", status=404)
    assert "errno=111" in summary_lines(caplog)[0]


def test_json_renderer_emits_mozlog_envelope_with_summary_fields(caplog):
    app = make_app({"logging_renderer": "kinto.core.logs.JsonLogRenderer"})
    app.get("/v1/", headers={"User-Agent": "tests/1.0"})
    record = json.loads(summary_lines(caplog)[0])
    assert record["Type"] == "request.summary"
    assert record["Severity"] == 6
    assert record["EnvVersion"] == "2.0"
    fields = record["Fields"]
    for field in REQUEST_SUMMARY_FIELDS:
        assert field in fields, field
    assert fields["code"] == 200 and fields["path"] == "/v1/" and fields["agent"] == "tests/1.0"
    assert isinstance(fields["t"], int)


def test_renderer_class_by_dotted_name_gets_the_settings(caplog):
    make_app({"logging_renderer": f"{MODULE}.UpperRenderer", "upper_prefix": ">"}).get("/v1/")
    assert summary_lines(caplog) == [">REQUEST.SUMMARY"]


def test_plain_callable_renderer(caplog):
    make_app({"logging_renderer": f"{MODULE}.function_renderer"}).get("/v1/")
    assert summary_lines(caplog) == ["fn:request.summary"]


def test_a_broken_renderer_does_not_break_requests(caplog):
    app = make_app({"logging_renderer": f"{MODULE}.BrokenRenderer"})
    assert app.get("/v1/").status_code == 200
    app.get("/v1/")
    lines = summary_lines(caplog)
    assert len(lines) == 2 and all(line.startswith("GET /v1/ 200") for line in lines)
    warnings = [r for r in caplog.records if "renderer" in r.getMessage().lower() and r.levelno == logging.WARNING]
    assert len(warnings) == 1


def test_classic_renderer_for_other_events():
    line = ClassicLogRenderer()(None, "info", {"event": "cache.flushed", "keys": 3, "name": "a b"})
    assert line == 'cache.flushed keys=3 name="a b"'


def test_json_renderer_survives_odd_values():
    line = JsonLogRenderer({"project_name": "p"})(None, "error", {"event": "x", "obj": object(), "s": "é"})
    record = json.loads(line)
    assert record["Logger"] == "p" and record["Severity"] == 3 and record["Fields"]["s"] == "é"


@pytest.mark.parametrize(
    ("settings", "name"),
    [({}, "kinto"), ({"kinto.project_name": "p"}, "p"), ({"kinto.logging_logger_name": "n", "project_name": "p"}, "n")],
)
def test_the_json_logger_field_is_the_logger_name_else_the_project_name(settings, name):
    record = json.loads(JsonLogRenderer(settings)(None, "info", {"event": "x"}))
    assert record["Logger"] == name


def test_the_summary_carries_kintos_fields_under_kintos_logger_name(caplog):
    app = make_app({"logging_renderer": "kinto.core.logs.JsonLogRenderer", "multiauth.policies": "basicauth"})
    app.get("/v1/", headers={**basic_auth_header(), "X-Request-Id": "req-42"})
    (record,) = [json.loads(r.getMessage()) for r in caplog.records if r.name == "request.summary"]
    fields = record["Fields"]
    assert fields["rid"] == "req-42"
    assert fields["authn_type"] == "basicauth"
    assert fields["uid"].startswith("basicauth:")
    assert isinstance(fields["t"], int)
    # Kinto's format: local time to the millisecond, no offset.
    logged = datetime.datetime.fromisoformat(fields["time"])
    assert logged.tzinfo is None and logged.microsecond % 1000 == 0


def test_requests_without_an_id_get_one_each(caplog):
    app = make_app({"logging_renderer": "kinto.core.logs.JsonLogRenderer"})
    app.get("/v1/")
    app.get("/v1/")
    fields = [json.loads(r.getMessage())["Fields"] for r in caplog.records if r.name == "request.summary"]
    ids = [each["rid"] for each in fields]
    assert len(ids) == 2 and ids[0] != ids[1]
    assert all(uuid.UUID(rid).version == 4 for rid in ids)
    assert [each["authn_type"] for each in fields] == [None, None]
