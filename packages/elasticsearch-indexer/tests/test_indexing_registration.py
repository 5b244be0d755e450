"""The plugin registers its indexer with the core's ``config.add_backend`` directive; the documented
example's ``config.registry.indexer = ...`` keeps working for other plugins."""

from __future__ import annotations

import inspect
from typing import Any

import kinto.core
import pytest
from indexing_helpers import BASE_SETTINGS
from kinto.core.testing import make_app
from pyramid.config import Configurator
from pyramid.exceptions import ConfigurationConflictError

import kinto_elasticsearch
from kinto_elasticsearch.embedded import EmbeddedIndexer

SETTINGS = {**BASE_SETTINGS, "kinto.indexing_backend": "kinto_elasticsearch.embedded"}


def test_the_registered_indexer_is_read_by_the_accessor_and_by_kintos_name() -> None:
    registry = make_app(SETTINGS, ["kinto_elasticsearch"]).app.registry
    indexer = kinto_elasticsearch.get_indexer(registry)
    assert isinstance(indexer, EmbeddedIndexer)
    assert registry.indexer is indexer
    assert kinto.core.loaded_backends(registry)["indexer"] is indexer


def test_an_indexer_assigned_as_the_documented_example_does_is_the_applications() -> None:
    assigned = EmbeddedIndexer()

    def seed_plugin(config: Any) -> None:
        config.registry.indexer = assigned

    registry = make_app(SETTINGS, [seed_plugin]).app.registry
    assert registry.indexer is assigned
    assert kinto_elasticsearch.get_indexer(registry) is assigned


def other_indexing_plugin(config: Any) -> None:
    config.add_backend("indexer", object())  # marker: another plugin's indexer


def test_another_plugin_registering_an_indexer_conflicts_with_both_source_lines() -> None:
    with pytest.raises(ConfigurationConflictError) as raised:
        make_app(SETTINGS, ["kinto_elasticsearch", other_indexing_plugin])

    message = str(raised.value)
    assert 'config.add_backend("indexer", indexer.load_from_config(config))' in message
    assert inspect.getsourcefile(kinto_elasticsearch) in message
    assert "# marker: another plugin's indexer" in message


def test_the_application_overrides_the_plugins_indexer() -> None:
    mine = EmbeddedIndexer()
    config = Configurator(settings=dict(SETTINGS))
    kinto.core.initialize(config, "0.0.1")
    config.include("kinto_elasticsearch")
    config.add_backend("indexer", mine)
    registry = config.make_wsgi_app().registry
    assert kinto_elasticsearch.get_indexer(registry) is mine
