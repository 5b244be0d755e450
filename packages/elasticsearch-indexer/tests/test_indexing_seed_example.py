"""Seed example #6 (an indexing plugin) works as documented, on this package."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
import webtest
from indexing_helpers import ALICE, BASE_SETTINGS
from kinto.core.resource import Model, UserResource, register_resource
from kinto.core.testing import make_app
from pyramid.config import Configurator

import kinto_elasticsearch
from kinto_elasticsearch import views


def test_the_package_has_the_documented_names() -> None:
    assert kinto_elasticsearch.DEFAULT_BACKEND == "kinto_elasticsearch.elasticsearch"
    assert views.search.name == "search" and views.search.path == "/search/{collection_id}/"
    assert "POST" in [method for method, _, _ in views.search.definitions]


def test_includeme_reads_kinto_indexing_backend_and_sets_registry_indexer() -> None:
    app = make_app({**BASE_SETTINGS, "kinto.indexing_backend": "kinto_elasticsearch.embedded"}, ["kinto_elasticsearch"])
    assert type(app.app.registry.indexer).__name__ == "EmbeddedIndexer"


def test_the_backend_may_be_named_by_its_entry_point_or_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    app = make_app({**BASE_SETTINGS, "kinto.indexing_backend": "embedded"}, ["kinto_elasticsearch"])
    assert type(app.app.registry.indexer).__name__ == "EmbeddedIndexer"
    monkeypatch.setenv("KINTO_INDEXING_BACKEND", "kinto_elasticsearch.embedded")
    app = make_app(BASE_SETTINGS, ["kinto_elasticsearch"])
    assert type(app.app.registry.indexer).__name__ == "EmbeddedIndexer"


def test_refresh_enabled_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KINTO_ELASTICSEARCH_REFRESH_ENABLED", "true")
    app = make_app({**BASE_SETTINGS, "kinto_elasticsearch.refresh_enabled": "false"}, ["kinto_elasticsearch"])
    assert app.app.registry.indexer.refresh_enabled is True
    assert app.app.registry.settings["kinto_elasticsearch.refresh_enabled"] is True


def test_an_unknown_backend_stops_start_up() -> None:
    from pyramid.exceptions import ConfigurationError

    with pytest.raises(ConfigurationError, match="indexing_backend"):
        make_app({**BASE_SETTINGS, "kinto.indexing_backend": "no.such.module"}, ["kinto_elasticsearch"])


def seed_main(global_config: Any, **settings: Any) -> Any:
    import kinto.core

    config = Configurator(settings=settings)
    kinto.core.initialize(config, "0.0.1")
    config.include("indexing_app")
    config.scan("indexing_seed_views")
    config.include("kinto_elasticsearch")
    return config.make_wsgi_app()


def test_the_documented_view_searches_through_registry_indexer() -> None:
    app = webtest.TestApp(seed_main({}, **BASE_SETTINGS, **{"kinto.indexing_backend": "kinto_elasticsearch.embedded"}))
    app.post_json("/v1/articles", {"data": {"title": "hello"}}, headers=ALICE)
    hits = app.post_json("/v1/seed-search/article/", {"query": {"match": {"title": "hello"}}}).json["hits"]["hits"]
    assert [hit["_source"]["title"] for hit in hits] == ["hello"]


class IndexedModel(Model):
    """The former way: a model indexing what it creates."""

    def create_record(self, record: dict[str, Any], parent_id: str | None = None) -> dict[str, Any]:
        created = super().create_record(record, parent_id=parent_id)
        self.indexer.index_record("memo", created, metadata={"parent_id": self.parent_id})
        return created


class IndexedResource(UserResource):
    default_model = IndexedModel
    schema: ClassVar[dict[str, Any]] = {"type": "object"}

    def __init__(self, request: Any, **kwargs: Any) -> None:
        super().__init__(request, **kwargs)
        self.model.indexer = request.registry.indexer


def test_the_former_model_subclass_way_still_works() -> None:
    def include(config: Any) -> None:
        register_resource(config, IndexedResource, name="memo")

    settings = {
        **BASE_SETTINGS,
        "kinto.indexing_backend": "kinto_elasticsearch.embedded",
        "kinto_elasticsearch.resources": "none",
    }
    app = make_app(settings, [include, "kinto_elasticsearch"])
    app.post_json("/v1/memos", {"data": {"title": "kept"}}, headers=ALICE, status=201)
    result = app.app.registry.indexer.search("memo", {"query": {"match": {"title": "kept"}}})
    assert [hit["_source"]["title"] for hit in result["hits"]["hits"]] == ["kept"]
