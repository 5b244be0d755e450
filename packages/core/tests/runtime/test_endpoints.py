"""The core's endpoints through HTTP: root, capabilities, heartbeat, version, redirects."""

import json
import time

import pytest
from pyramid.exceptions import ConfigurationError

from kinto.core.testing import basic_auth_header, make_app

BASICAUTH = {"multiauth.policies": "basicauth", "userid_hmac_secret": "s3cr3t"}


def test_root_describes_the_project(app):
    body = app.get("/v1/").json
    assert body["project_name"] == "testapp"
    assert body["project_version"] == "0.0.1"
    assert body["http_api_version"] == "1.0"
    assert body["url"] == "http://localhost/v1/"
    assert body["settings"] == {"batch_max_requests": 25, "readonly": False, "explicit_permissions": True}
    assert body["capabilities"] == {}
    assert "user" not in body


def test_basicauth_is_a_capability_when_it_is_a_policy(app_factory):
    # As in Kinto 26.5.0: the admin's login form offers the methods the capabilities name.
    capabilities = app_factory(BASICAUTH).get("/v1/").json["capabilities"]
    assert set(capabilities) == {"basicauth"}
    assert capabilities["basicauth"]["url"].startswith("https://")


def test_root_shows_authenticated_user(app_factory):
    app = app_factory(BASICAUTH)
    body = app.get("/v1/", headers=basic_auth_header("alice", "pw")).json
    assert body["user"]["id"].startswith("basicauth:")
    assert len(body["user"]["id"]) == len("basicauth:") + 64
    assert "system.Authenticated" in body["user"]["principals"]
    other = app.get("/v1/", headers=basic_auth_header("alice", "other")).json
    assert other["user"]["id"] != body["user"]["id"]


def test_user_id_depends_on_the_hmac_secret():
    one = make_app({**BASICAUTH, "userid_hmac_secret": "a"}).get("/v1/", headers=basic_auth_header()).json
    two = make_app({**BASICAUTH, "userid_hmac_secret": "b"}).get("/v1/", headers=basic_auth_header()).json
    assert one["user"]["id"] != two["user"]["id"]


def test_anonymous_root_is_cacheable_on_a_read_only_server_only(app, app_factory):
    assert "Cache-Control" not in app.get("/v1/").headers
    readonly = app_factory({"readonly": "true"})
    assert readonly.get("/v1/").headers["Cache-Control"] == "max-age=86400"


def test_capability_exposes_every_argument(app_factory):
    def include(config):
        config.add_api_capability(
            "flush",
            description="Flush server using endpoint",
            url="https://example.org/docs/flush",
            version="2.1",
            extra=["a"],
        )

    app = app_factory(includes=[include])
    assert app.get("/v1/").json["capabilities"] == {
        "flush": {
            "description": "Flush server using endpoint",
            "url": "https://example.org/docs/flush",
            "version": "2.1",
            "extra": ["a"],
        }
    }


def test_duplicate_capability_is_a_configuration_error(app_factory):
    def include(config):
        config.add_api_capability("flush", description="a", url="u")
        config.add_api_capability("flush", description="b", url="u")

    with pytest.raises(ConfigurationError, match="flush"):
        app_factory(includes=[include])


def test_heartbeat_lists_backends_and_plugin_checks(app_factory):
    def include(config):
        config.add_heartbeat("remote", lambda request: True)

    response = app_factory(includes=[include]).get("/v1/__heartbeat__")
    assert response.json["remote"] is True
    assert response.status_code == 200


@pytest.mark.parametrize("check", [lambda request: False, lambda request: 1 / 0])
def test_heartbeat_answers_503_when_a_check_fails_or_raises(app_factory, check):
    def include(config):
        config.add_heartbeat("remote", check)

    response = app_factory(includes=[include]).get("/v1/__heartbeat__", status=503)
    assert response.json["remote"] is False


def test_heartbeat_times_out_a_hanging_check(app_factory):
    def include(config):
        config.add_heartbeat("slow", lambda request: time.sleep(5) or True)

    app = app_factory({"heartbeat_timeout_seconds": "0.2"}, includes=[include])
    response = app.get("/v1/__heartbeat__", status=503)
    assert response.json == {**response.json, "slow": False}


def test_lbheartbeat_is_always_ok(app):
    assert app.get("/v1/__lbheartbeat__").json == {}


def test_version_without_a_file_comes_from_settings(app):
    # Kinto 26.5 answered 500 here.
    body = app.get("/v1/__version__").json
    assert body["version"] == "0.0.1"
    assert body["name"] == "testapp"


def test_version_from_a_file(app_factory, tmp_path):
    path = tmp_path / "version.json"
    path.write_text(json.dumps({"version": "9.9.9", "commit": "abc", "source": "s", "build": "b"}))
    assert app_factory({"version_json_path": str(path)}).get("/v1/__version__").json["commit"] == "abc"


@pytest.mark.parametrize("path", ["/", "/__heartbeat__", "/buckets/a?x=1"])
def test_unprefixed_urls_redirect_to_v1(app, path):
    response = app.get(path, status=307)
    assert response.location == f"http://localhost/v1{path}"


def test_version_redirect_can_be_disabled(app_factory):
    app = app_factory({"version_prefix_redirect_enabled": "false"})
    assert app.get("/__heartbeat__", status=404).json["errno"] == 116  # not under /v1: as Kinto


@pytest.mark.parametrize("path", ["/v2/buckets", "/v0/", "/v2", "/v10/x"])
def test_another_api_version_is_a_404_errno_116(app, path):
    response = app.get(path, status=404)
    assert (response.json["code"], response.json["errno"]) == (404, 116)
    assert app.get("/v1/nowhere", status=404).json["errno"] == 111


def test_trailing_slash_redirects_to_the_existing_route(app):
    assert app.get("/v1/__heartbeat__/", status=307).location == "http://localhost/v1/__heartbeat__"
    assert app.get("/v1", status=307).location == "http://localhost/v1/"


def test_major_version_of_the_http_api_is_the_prefix(app_factory):
    app = app_factory({"http_api_version": "2.3"})
    assert app.get("/v2/").json["http_api_version"] == "2.3"


def test_cors_headers_on_responses_and_errors(app):
    response = app.get("/v1/", headers={"Origin": "https://client.example"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Next-Page" in response.headers["Access-Control-Expose-Headers"]
    error = app.get("/v1/missing", headers={"Origin": "https://client.example"}, status=404)
    assert error.headers["Access-Control-Allow-Origin"] == "*"


def test_cors_restricted_origins(app_factory):
    app = app_factory({"cors_origins": "https://good.example"})
    good = app.get("/v1/", headers={"Origin": "https://good.example"})
    assert good.headers["Access-Control-Allow-Origin"] == "https://good.example"
    bad = app.get("/v1/", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in bad.headers


def test_cors_preflight(app):
    response = app.options(
        "/v1/",
        headers={
            "Origin": "https://c.example",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "Authorization",
        },
    )
    assert response.headers["Access-Control-Allow-Methods"] == "GET"
    assert response.headers["Access-Control-Allow-Headers"] == "Authorization"
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_backoff_header_from_settings(app_factory):
    assert app_factory({"backoff": "10"}).get("/v1/").headers["Backoff"] == "10"
    assert "Backoff" not in app_factory().get("/v1/").headers


@pytest.mark.parametrize(("percentage", "sent"), [("0", False), ("100", True)])
def test_backoff_percentage_is_the_share_of_answers_with_the_header(app_factory, percentage, sent):
    app = app_factory({"backoff": "10", "backoff_percentage": percentage})
    assert all(("Backoff" in app.get("/v1/").headers) is sent for _ in range(20))


def test_end_of_service_in_the_future_sends_an_alert(app_factory):
    app = app_factory({"eos": "2999-01-01", "eos_message": "Bye", "eos_url": "https://x"})
    alert = json.loads(app.get("/v1/").headers["Alert"])
    assert alert == {"code": "soft-eol", "message": "Bye", "url": "https://x"}


def test_end_of_service_in_the_past_answers_410_with_a_hard_eol_alert(app_factory):
    app = make_app({"eos": "2000-01-01", "eos_message": "Bye", "eos_url": "https://x"})
    for path in ("/v1/", "/v2/anything"):
        response = app.get(path, status=410)
        assert response.json["errno"] == 202
        assert json.loads(response.headers["Alert"]) == {"code": "hard-eol", "message": "Bye", "url": "https://x"}


def test_the_alert_header_is_compact_json_as_kintos(app_factory):
    app = app_factory({"eos": "2999-01-01", "eos_message": "Bye", "eos_url": "https://x"})
    assert app.get("/v1/").headers["Alert"] == '{"code":"soft-eol","message":"Bye","url":"https://x"}'


def test_readonly_mode_refuses_writes(app_factory):
    app = app_factory({"readonly": "true"})
    response = app.post_json("/v1/", {}, status=405)
    assert response.json["errno"] == 115
    app.get("/v1/")
