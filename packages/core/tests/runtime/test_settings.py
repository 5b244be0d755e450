"""The settings rule: both spellings, coercion, environment overrides, clear errors."""

import pytest
from pyramid.config import Configurator
from pyramid.exceptions import ConfigurationError

import kinto.core
from kinto.core.settings import DEFAULT_SETTINGS, apply_defaults, environment_names
from kinto.core.testing import TEST_SECRET


def apply(settings, defaults=None, environ=None, **kw):
    settings = dict(settings)
    apply_defaults(settings, defaults if defaults is not None else DEFAULT_SETTINGS, environ or {}, **kw)
    return settings


def test_both_spellings_end_up_with_the_same_value():
    settings = apply({"kinto.storage_url": "sqlite:///x"})
    assert settings["storage_url"] == settings["kinto.storage_url"] == "sqlite:///x"
    settings = apply({"storage_url": "sqlite:///y"})
    assert settings["kinto.storage_url"] == "sqlite:///y"


def test_defaults_fill_missing_keys_in_both_spellings():
    settings = apply({})
    assert settings["batch_max_requests"] == 25
    assert settings["kinto.batch_max_requests"] == 25


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("true", True),
        ("True", True),
        ("yes", True),
        ("on", True),
        ("1", True),
        ("false", False),
        ("0", False),
        ("off", False),
    ],
)
def test_booleans_are_coerced(raw, expected):
    assert apply({"kinto.readonly": raw})["readonly"] is expected


def test_prefixed_flag_true_is_not_a_conflict():
    # Kinto 26.5 compared the raw string with the parsed boolean and refused to start.
    settings = apply({"kinto.readonly": "true", "readonly": True})
    assert settings["readonly"] is True


def test_both_spellings_with_different_values_is_an_error_naming_the_setting():
    with pytest.raises(ConfigurationError, match="readonly"):
        apply({"kinto.readonly": "true", "readonly": "false"})


def test_integers_are_coerced_and_invalid_ones_name_the_setting():
    assert apply({"batch_max_requests": "7"})["batch_max_requests"] == 7
    with pytest.raises(ConfigurationError, match=r"batch_max_requests.*not an integer"):
        apply({"batch_max_requests": "seven"})


def test_invalid_boolean_names_the_setting():
    with pytest.raises(ConfigurationError, match=r"readonly.*not a boolean"):
        apply({"kinto.readonly": "maybe"})


def test_string_settings_stay_strings():
    # Kinto 26.5 re-parsed "1.23" into 1.23 and then answered 500 on /__api__.
    settings = apply({"http_api_version": "1.23", "project_version": "2.0"})
    assert settings["http_api_version"] == "1.23"
    assert settings["project_version"] == "2.0"


def test_lists_are_split_on_whitespace_and_newlines():
    settings = apply({"includes": "kinto_elasticsearch\n   pyramid_debugtoolbar"})
    assert settings["includes"] == ["kinto_elasticsearch", "pyramid_debugtoolbar"]


def test_environment_overrides_the_file():
    settings = apply({"kinto.batch_max_requests": "10"}, environ={"KINTO_BATCH_MAX_REQUESTS": "42"})
    assert settings["batch_max_requests"] == settings["kinto.batch_max_requests"] == 42


def test_kinto_prefixed_environment_variable_wins_over_the_plain_one():
    settings = apply({}, environ={"BATCH_MAX_REQUESTS": "1", "KINTO_BATCH_MAX_REQUESTS": "2"})
    assert settings["batch_max_requests"] == 2
    settings = apply({}, environ={"BATCH_MAX_REQUESTS": "1"})
    assert settings["batch_max_requests"] == 1


def test_environment_values_are_coerced_and_validated():
    assert apply({}, environ={"KINTO_READONLY": "true"})["readonly"] is True
    with pytest.raises(ConfigurationError, match="readonly"):
        apply({}, environ={"KINTO_READONLY": "perhaps"})


@pytest.mark.parametrize("key", ["backoff_percentage", "paginate_by"])
def test_optional_integers_are_none_unless_given_and_then_integers(key):
    assert apply({})[key] is None
    assert apply({key: ""})[key] is None
    assert apply({"kinto." + key: "50"})[key] == 50
    assert apply({}, environ={environment_names(key)[0]: "7"})["kinto." + key] == 7
    assert apply({key: "5"}, environ={environment_names(key)[0]: "null"})[key] is None
    with pytest.raises(ConfigurationError, match=rf"{key}.*not an integer"):
        apply({key: "half"})


def test_plugin_setting_environment_name():
    assert environment_names("kinto_elasticsearch.refresh_enabled")[0] == "KINTO_ELASTICSEARCH_REFRESH_ENABLED"
    assert environment_names("kinto.storage_url") == ("KINTO_STORAGE_URL", "STORAGE_URL")
    assert environment_names("multiauth.policy.fxa-x.use") == (
        "KINTO_MULTIAUTH_POLICY_FXA_X_USE",
        "MULTIAUTH_POLICY_FXA_X_USE",
    )


def test_unknown_keys_get_environment_overrides_only_when_asked():
    settings = apply({"myapp.flag": "a"}, defaults={}, environ={"KINTO_MYAPP_FLAG": "b"})
    assert settings["myapp.flag"] == "a"
    settings = apply({"myapp.flag": "a"}, defaults={}, environ={"KINTO_MYAPP_FLAG": "b"}, include_unknown=True)
    assert settings["myapp.flag"] == settings["kinto.myapp.flag"] == "b"


def test_load_default_settings_for_a_plugin(monkeypatch):
    monkeypatch.setenv("KINTO_ELASTICSEARCH_REFRESH_ENABLED", "true")
    config = Configurator(settings={"kinto_elasticsearch.refresh_enabled": "false"})
    kinto.core.load_default_settings(config, {"kinto_elasticsearch.refresh_enabled": False, "kinto_elasticsearch.x": 3})
    settings = config.get_settings()
    assert settings["kinto_elasticsearch.refresh_enabled"] is True
    assert settings["kinto_elasticsearch.x"] == 3


def test_plugin_defaults_do_not_undo_core_coercion(monkeypatch):
    monkeypatch.setenv("KINTO_READONLY", "true")
    config = Configurator(settings={"kinto.userid_hmac_secret": TEST_SECRET})
    kinto.core.initialize(config, "1.0")
    kinto.core.load_default_settings(config, {"myplugin.x": 1})
    assert config.get_settings()["readonly"] is True


def test_initialize_fails_on_invalid_typed_value_naming_the_setting():
    config = Configurator(settings={"kinto.heartbeat_timeout_seconds": "soon"})
    with pytest.raises(ConfigurationError, match="heartbeat_timeout_seconds"):
        kinto.core.initialize(config, "1.0")


def test_initialize_fails_on_unknown_renderer_naming_the_setting():
    config = Configurator(
        settings={"kinto.logging_renderer": "nowhere.Renderer", "kinto.userid_hmac_secret": TEST_SECRET}
    )
    with pytest.raises(ConfigurationError, match=r"kinto\.logging_renderer"):
        kinto.core.initialize(config, "1.0")


def test_initialize_fails_on_invalid_api_version():
    config = Configurator(settings={"kinto.http_api_version": "x.y", "kinto.userid_hmac_secret": TEST_SECRET})
    with pytest.raises(ConfigurationError, match="http_api_version"):
        kinto.core.initialize(config, "1.0")


@pytest.mark.parametrize(
    ("variable", "raw", "key", "expected"),
    [
        ("KINTO_EOS", '"2026-12-07"', "eos", "2026-12-07"),
        ("KINTO_EOS", "null", "eos", None),
        ("KINTO_INCLUDES", '["a", "b"]', "includes", ["a", "b"]),
        ("KINTO_BATCH_MAX_REQUESTS", '"7"', "batch_max_requests", 7),
        ("KINTO_READONLY", '"true"', "readonly", True),
        ("KINTO_PROJECT_NAME", '"my project"', "project_name", "my project"),
        # Text settings take JSON strings only: a version stays as written.
        ("KINTO_HTTP_API_VERSION", "1.10", "http_api_version", "1.10"),
        ("KINTO_PROJECT_NAME", '{"a": 1}', "project_name", '{"a": 1}'),
    ],
)
def test_environment_values_are_read_as_json_where_they_parse(variable, raw, key, expected):
    # As Kinto's native_value: an operator quoting a value in a shell or a container spec gets the value.
    assert apply({}, environ={variable: raw})[key] == expected


def test_unknown_keys_are_unquoted_from_json_and_stay_text():
    settings = apply(
        {"myapp.mode": '"fast"', "myapp.size": "10"},
        defaults={},
        include_unknown=True,
        environ={"KINTO_MYAPP_COLOR": '"red"'},
    )
    assert settings["myapp.mode"] == "fast"
    assert settings["myapp.size"] == "10"
    settings = apply({"myapp.color": "blue"}, defaults={}, include_unknown=True, environ={"KINTO_MYAPP_COLOR": '"red"'})
    assert settings["myapp.color"] == settings["kinto.myapp.color"] == "red"


@pytest.mark.parametrize(("date", "status"), [("2999-12-07", 200), ("2000-12-07", 410)])
def test_an_end_of_service_date_quoted_in_the_environment_is_that_date(monkeypatch, date, status):
    from kinto.core.testing import make_app

    monkeypatch.setenv("KINTO_EOS", f'"{date}"')
    response = make_app().get("/v1/", status=status)
    assert "eol" in response.headers["Alert"]
