"""Including the plugin: settings and their overrides, capability, clients, and configuration errors."""

from __future__ import annotations

from typing import Any

import pytest
from kinto.core.testing import make_app
from pyramid.exceptions import ConfigurationError

from kinto_fxa.authentication import token_verifier
from kinto_fxa.settings import FxAConfig
from kinto_fxa.testing import OAuthStandIn

from .conftest import CLIENT_ID, USER, bearer


def config_of(app: Any) -> FxAConfig:
    return token_verifier(app.app.registry).config


def test_the_capability_is_listed_at_the_root(app: Any) -> None:
    capability = app.get("/v1/").json["capabilities"]["fxa"]
    assert capability["url"] and capability["description"]
    assert "version" in capability


def test_defaults_apply_to_what_is_not_set() -> None:
    app = make_app({"includes": "kinto_fxa", "fxa-oauth.client_id": "89513028159972bc"})
    config = config_of(app)
    assert config.oauth_uri == "https://oauth.accounts.firefox.com/v1"
    assert config.default_client.required_scopes == ("profile",)
    assert config.cache_ttl_seconds == 300
    assert app.app.registry.settings["fxa-oauth.relier.enabled"] is True


def test_the_environment_overrides_the_settings(make_fxa_app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KINTO_FXA_OAUTH_CACHE_TTL_SECONDS", "12")
    monkeypatch.setenv("FXA_OAUTH_REQUIRED_SCOPE", "profile notes")
    config = config_of(make_fxa_app())
    assert config.cache_ttl_seconds == 12
    assert config.default_client.required_scopes == ("profile", "notes")


def test_settings_the_plugin_did_not_load_are_read_with_the_settings_rule() -> None:
    # token_verifier builds the configuration itself when kinto_fxa was not included.
    client = {"fxa-oauth.client_id": CLIENT_ID}
    config = FxAConfig.from_settings(
        {**client, "fxa-oauth.cache_ttl_seconds": "10", "kinto.fxa-oauth.relier.enabled": "off"}
    )
    assert config.cache_ttl_seconds == 10.0
    assert config.relier_enabled is False
    with pytest.raises(ConfigurationError, match=r"fxa-oauth\.cache_ttl_seconds.*not a number"):
        FxAConfig.from_settings({**client, "fxa-oauth.cache_ttl_seconds": "soon"})


def test_an_unknown_verification_mode_fails_at_startup(make_fxa_app: Any) -> None:
    with pytest.raises(ConfigurationError, match="opaque_token_verification"):
        make_fxa_app(**{"fxa-oauth.opaque_token_verification": "guess"})


def test_the_plugin_needs_a_kinto_core_application() -> None:
    from pyramid.config import Configurator

    with pytest.raises(ConfigurationError, match="kinto.core"):
        Configurator(settings={}).include("kinto_fxa")


def test_a_policy_option_it_does_not_know_fails_at_startup(make_fxa_app: Any) -> None:
    with pytest.raises(TypeError):
        make_fxa_app(**{"multiauth.policy.fxa.colour": "blue"})


class TestSeveralClients:
    @pytest.fixture
    def app(self, make_fxa_app: Any) -> Any:
        return make_fxa_app(
            **{
                "fxa-oauth.required_scope": "profile",
                "fxa-oauth.clients.notes.client_id": "notes-id",
                "fxa-oauth.clients.notes.required_scope": "profile https://identity.example.com/apps/notes",
                "fxa-oauth.clients.todo.client_id": "todo-id",
                "fxa-oauth.clients.todo.required_scope": "profile https://identity.example.com/apps/todo",
            }
        )

    def test_a_named_client_suffixes_the_user_id(self, app: Any, oauth_server: OAuthStandIn) -> None:
        token = oauth_server.issue_jwt_token(USER, "profile https://identity.example.com/apps/notes", "notes-id")
        assert app.get("/v1/protected", headers=bearer(token)).json == {"userid": f"fxa:{USER}-notes"}

    def test_the_default_client_keeps_the_plain_user_id(self, app: Any, oauth_server: OAuthStandIn) -> None:
        token = oauth_server.issue_jwt_token(USER, "profile", CLIENT_ID)
        assert app.get("/v1/protected", headers=bearer(token)).json == {"userid": f"fxa:{USER}"}

    def test_a_token_of_one_client_with_the_scope_of_another_is_refused(
        self, app: Any, oauth_server: OAuthStandIn
    ) -> None:
        token = oauth_server.issue_jwt_token(USER, "profile https://identity.example.com/apps/todo", "notes-id")
        app.get("/v1/protected", headers=bearer(token), status=401)

    def test_the_groupfinder_adds_the_account_principal(self, make_fxa_app: Any, oauth_server: OAuthStandIn) -> None:
        app = make_fxa_app(
            **{
                "multiauth.groupfinder": "kinto_fxa.authentication.groupfinder",
                "fxa-oauth.clients.notes.client_id": "notes-id",
                "fxa-oauth.clients.notes.required_scope": "profile https://identity.example.com/apps/notes",
            }
        )
        token = oauth_server.issue_jwt_token(USER, "profile https://identity.example.com/apps/notes", "notes-id")
        for _ in range(2):  # verified, then from the cache
            principals = app.get("/v1/", headers=bearer(token)).json["user"]["principals"]
            assert f"fxa:{USER}-notes" in principals
            assert f"fxa:{USER}" in principals

    def test_login_may_name_a_client(self, app: Any, oauth_server: OAuthStandIn) -> None:
        params = {"redirect": "https://app.example.com/#", "client_id": "todo-id"}
        response = app.get("/v1/fxa-oauth/login", params=params, status=302)
        assert "client_id=todo-id" in response.location


def test_clients_that_cannot_be_told_apart_fail_at_startup(make_fxa_app: Any) -> None:
    with pytest.raises(ConfigurationError, match="cannot be told apart"):
        make_fxa_app(
            **{
                "fxa-oauth.clients.notes.required_scope": "profile notes",
                "fxa-oauth.clients.lockbox.required_scope": "notes profile",
            }
        )


def test_a_client_without_required_scope_fails_at_startup(make_fxa_app: Any) -> None:
    with pytest.raises(ConfigurationError, match="required_scope"):
        make_fxa_app(**{"fxa-oauth.clients.notes.client_id": "abc"})
