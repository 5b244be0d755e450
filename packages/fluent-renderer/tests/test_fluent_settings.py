import pytest
from pyramid.exceptions import ConfigurationError

from kinto_fluent.settings import DEFAULT_SETTINGS, read_options


def test_defaults_send_to_localhost_with_the_kinto_tag():
    options = read_options({}, environ={})

    assert (options.tag, options.host, options.port) == ("kinto", "localhost", 24224)
    assert options.nanosecond_precision is True


def test_settings_name_tag_host_and_port():
    settings = {"kinto_fluent.tag": "app", "kinto_fluent.host": "fluentd.local", "kinto_fluent.port": "24230"}

    options = read_options(settings, environ={})

    assert (options.tag, options.host, options.port) == ("app", "fluentd.local", 24230)


def test_fluentd_host_from_the_environment_is_the_fallback_for_the_host():
    assert read_options({}, environ={"FLUENTD_HOST": "collector"}).host == "collector"


def test_a_host_setting_wins_over_fluentd_host():
    options = read_options({"kinto_fluent.host": "configured"}, environ={"FLUENTD_HOST": "collector"})

    assert options.host == "configured"


def test_kinto_fluent_variables_override_the_settings_file():
    environ = {"KINTO_FLUENT_TAG": "from-env", "KINTO_FLUENT_HOST": "env-host", "KINTO_FLUENT_QUEUE_SIZE": "7"}

    options = read_options({"kinto_fluent.tag": "from-file", "kinto_fluent.host": "file-host"}, environ=environ)

    assert (options.tag, options.host, options.queue_size) == ("from-env", "env-host", 7)


def test_boolean_and_number_settings_are_coerced():
    settings = {"kinto_fluent.nanosecond_precision": "false", "kinto_fluent.timeout_seconds": "0.5"}

    options = read_options(settings, environ={})

    assert options.nanosecond_precision is False
    assert options.timeout_seconds == 0.5


def test_a_port_that_is_not_a_number_fails_naming_the_setting():
    with pytest.raises(ConfigurationError, match=r"kinto_fluent\.port"):
        read_options({"kinto_fluent.port": "abc"}, environ={})


@pytest.mark.parametrize("name", ["queue_size", "buffer_size_bytes", "timeout_seconds", "retry_interval_seconds"])
def test_sizes_and_intervals_must_be_positive(name):
    with pytest.raises(ValueError, match=rf"kinto_fluent\.{name}"):
        read_options({f"kinto_fluent.{name}": 0}, environ={})


def test_the_application_settings_are_left_untouched():
    settings = {"kinto_fluent.tag": "app"}

    read_options(settings, environ={"KINTO_FLUENT_TAG": "env"})

    assert settings == {"kinto_fluent.tag": "app"}


def test_every_default_is_read_into_an_option():
    options = read_options({}, environ={})

    for key, default in DEFAULT_SETTINGS.items():
        name = key.removeprefix("kinto_fluent.")
        assert getattr(options, name) == (default or "localhost")
