"""The core's directives: Pyramid actions (conflicts named with their source lines, overrides the
Pyramid way), one store read back by accessors, and Kinto's registry attribute names over it."""

import types
from pathlib import Path

import pytest
from pyramid.config import Configurator
from pyramid.exceptions import ConfigurationConflictError

import kinto.core
from kinto.core.initialization import migrate
from kinto.core.testing import TEST_SECRET, make_app

SOURCE = Path(__file__).read_text().splitlines()


def line_of(marker):
    """The line number of the only line of this file holding ``marker`` (outside this function)."""
    found = [number for number, text in enumerate(SOURCE, start=1) if marker in text and "line_of(" not in text]
    assert len(found) == 1, found
    return found[0]


def register(config, directive, label):
    if directive == "capability":
        config.add_api_capability("search", description=label, url="https://example.org")
    elif directive == "heartbeat":
        config.add_heartbeat("search", lambda request: label == "healthy")
    else:

        def step(registry, dry_run=False):
            registry["test.migrated"] = label

        config.add_migration("search", step)


def plugin_one_capability(config):
    config.add_api_capability("search", description="one", url="u")  # marker: plugin one capability


def plugin_two_capability(config):
    config.add_api_capability("search", description="two", url="u")  # marker: plugin two capability


def plugin_one_heartbeat(config):
    config.add_heartbeat("search", lambda request: True)  # marker: plugin one heartbeat


def plugin_two_heartbeat(config):
    config.add_heartbeat("search", lambda request: True)  # marker: plugin two heartbeat


def plugin_one_migration(config):
    config.add_migration("search", lambda registry, dry_run=False: None)  # marker: plugin one migration


def plugin_two_migration(config):
    config.add_migration("search", lambda registry, dry_run=False: None)  # marker: plugin two migration


PLUGINS = {
    "capability": (plugin_one_capability, plugin_two_capability),
    "heartbeat": (plugin_one_heartbeat, plugin_two_heartbeat),
    "migration": (plugin_one_migration, plugin_two_migration),
}


@pytest.mark.parametrize("directive", sorted(PLUGINS))
def test_two_plugins_registering_one_name_conflict_with_both_source_lines(directive):
    one, two = PLUGINS[directive]

    with pytest.raises(ConfigurationConflictError) as raised:
        make_app(includes=[one, two])

    message = str(raised.value)
    for plugin in ("one", "two"):
        assert f"Line {line_of(f'marker: plugin {plugin} {directive}')} of file {__file__}" in message
        assert f"# marker: plugin {plugin} {directive}" in message


@pytest.mark.parametrize("directive", sorted(PLUGINS))
def test_a_plugin_included_twice_registers_once(directive):
    one, _ = PLUGINS[directive]
    make_app(includes=[one, one])


def application(*steps):
    """A committed application: ``initialize``, then each step called with the configurator."""
    config = Configurator(settings={"userid_hmac_secret": TEST_SECRET})
    kinto.core.initialize(config, "0.0.1", project_name="testapp")
    for step in steps:
        step(config)
    return config.make_wsgi_app()


def outcome(app, directive):
    """What the registration of ``search`` that won says, read through the public interface."""
    if directive == "capability":
        return kinto.core.api_capabilities(app.registry)["search"]["description"]
    if directive == "heartbeat":
        return "healthy" if kinto.core.heartbeats(app.registry)["search"](None) else "other"
    assert "search" in migrate(app.registry)
    return app.registry["test.migrated"]


@pytest.mark.parametrize("commit_first", [False, True], ids=["includer-wins", "after-commit"])
@pytest.mark.parametrize("directive", sorted(PLUGINS))
def test_the_application_overrides_a_plugins_registration(directive, commit_first):
    """The including configuration wins over its includes; after ``config.commit()``, a new
    registration replaces the committed one."""

    def plugin(config):
        register(config, directive, "plugin's")

    def app_overriding(config):
        config.include(plugin)
        if commit_first:
            config.commit()
        register(config, directive, "healthy")

    assert outcome(application(app_overriding), directive) == "healthy"


def test_registrations_are_shown_over_http():
    def plugin(config):
        config.add_api_capability("search", description="Search records.", url="https://example.org", version="2")
        config.add_heartbeat("search", lambda request: True)

    app = make_app(includes=[plugin])
    assert app.get("/v1/").json["capabilities"]["search"] == {
        "description": "Search records.",
        "url": "https://example.org",
        "version": "2",
    }
    assert app.get("/v1/__heartbeat__").json["search"] is True


def test_kinto_registry_names_read_the_one_store():
    def kinto_style_plugin(config):
        # What plugins written for Kinto do (kinto-signer, kinto-megaphone): write the mapping directly.
        config.registry.heartbeats["signer"] = lambda request: False

    app = make_app(includes=[kinto_style_plugin])
    registry = app.app.registry
    assert registry.heartbeats is kinto.core.heartbeats(registry)
    assert registry.api_capabilities is kinto.core.api_capabilities(registry)
    assert registry.route_prefix == "v1"
    assert registry.storage is kinto.core.loaded_backends(registry)["storage"]
    assert registry.cache is kinto.core.loaded_backends(registry)["cache"]
    assert registry.permission is kinto.core.loaded_backends(registry)["permission"]
    assert app.get("/v1/__heartbeat__", status=503).json["signer"] is False


def test_kinto_registry_names_are_views_not_settable_stores():
    registry = make_app().app.registry
    with pytest.raises(AttributeError):
        registry.heartbeats = {}
    with pytest.raises(AttributeError):
        registry.api_capabilities = {}
    assert getattr(registry, "indexer", None) is None


def test_a_backend_assigned_as_an_attribute_is_the_registered_one():
    # The documented indexing example assigns ``config.registry.indexer``; the directive registers the same way.
    indexer, other = object(), object()

    def assigning(config):
        config.registry.indexer = indexer

    def registering(config):
        config.add_backend("search_index", other)

    registry = make_app(includes=[assigning, registering]).app.registry
    assert registry.indexer is kinto.core.loaded_backends(registry)["indexer"] is indexer
    assert kinto.core.loaded_backends(registry)["search_index"] is other


def test_kinto_core_migrations_is_only_kintos_module():
    # Kinto's plugins import ``kinto.core.migrations.PostgreSQLPluginMigration``: an accessor exported
    # under that name would be the package attribute until the submodule is imported, then vanish.
    assert "migrations" not in kinto.core.__all__
    assert isinstance(getattr(kinto.core, "migrations", types.ModuleType("not imported yet")), types.ModuleType)
