"""Known failures of the shipped renderers, found by RendererContract.

``kinto/core/logs.py`` is not this suite's to change: these cases are marked
strict xfail so that the suite stays the specification and the markers must
go as soon as the renderers are fixed (a fixed case then fails as XPASS).
"""

import pytest

_ODD = "test_odd_values_in_{}_do_not_raise[{}]"

KNOWN_RENDERER_FAILURES = {
    "TestClassicLogRenderer": {
        # ClassicLogRenderer concatenates "?" + querystring, assuming a str.
        *(
            _ODD.format("a_request_summary", value)
            for value in (
                "object",
                "set",
                "bytes",
                "datetime",
                "decimal",
                "uuid",
                "nan",
                "infinity",
                "huge-int",
                "long-list",
                "non-string-keys",
                "exception",
                "function",
            )
        ),
        _ODD.format("an_event", "non-string-keys"),  # json.dumps refuses tuple keys
        "test_a_self_referencing_value_does_not_raise",  # json.dumps: circular reference
    },
    "TestJsonLogRenderer": {
        _ODD.format("an_event", "non-string-keys"),
        _ODD.format("a_request_summary", "non-string-keys"),
        "test_a_self_referencing_value_does_not_raise",
    },
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        known = KNOWN_RENDERER_FAILURES.get(getattr(item.cls, "__name__", ""), set())
        if item.name in known:
            item.add_marker(
                pytest.mark.xfail(reason="kinto.core.logs renderer bug found by RendererContract", strict=True)
            )
