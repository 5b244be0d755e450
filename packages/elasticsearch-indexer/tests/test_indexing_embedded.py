"""The embedded indexer on its own: persistence in SQLite, several processes on one file, its limits."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyramid.config import Configurator
from pyramid.exceptions import ConfigurationError

from kinto_elasticsearch import embedded
from kinto_elasticsearch.embedded import EmbeddedIndexer
from kinto_elasticsearch.indexer import BulkOperation, SearchError


def found(indexer: EmbeddedIndexer, collection: str = "c", bucket: str | None = "b") -> list[str]:
    return sorted(hit["_id"] for hit in indexer.search(collection, None, bucket)["hits"]["hits"])


def put(indexer: EmbeddedIndexer, *ids: str, key: tuple[str, ...] = ("b", "c")) -> None:
    indexer.bulk([BulkOperation(key, "index", record_id, {"id": record_id, "__kinto__": {}}) for record_id in ids])


def test_an_index_in_a_file_survives_the_process(tmp_path: Path) -> None:
    path = str(tmp_path / "search.sqlite")
    first = EmbeddedIndexer(path=path)
    first.create_index("c", "b", {"properties": {"tag": {"type": "keyword"}}})
    put(first, "1", "2")
    second = EmbeddedIndexer(path=path)
    assert found(second) == ["1", "2"]
    assert second.list_indexes() == [("b", "c")]
    with pytest.raises(SearchError):  # the mapping was kept too
        second.update_mapping("c", "b", {"properties": {"tag": {"type": "long"}}})


def test_processes_sharing_a_file_see_each_other_s_changes(tmp_path: Path) -> None:
    path = str(tmp_path / "search.sqlite")
    writer, reader = EmbeddedIndexer(path=path), EmbeddedIndexer(path=path)
    put(writer, "1")
    assert found(reader) == ["1"]
    put(writer, "2")
    writer.unindex_record("c", "1", "b")
    assert found(reader) == ["2"]
    put(reader, "3")
    assert found(writer) == ["2", "3"]
    writer.delete_index(None, "b")
    assert found(reader) == [] and not reader.index_exists("c", "b")
    put(writer, "4", key=("articles",))
    reader.flush()
    assert found(writer, "articles", None) == []


def test_memory_indexes_live_in_their_instance() -> None:
    first = EmbeddedIndexer()
    put(first, "1")
    assert found(EmbeddedIndexer()) == []
    assert first.heartbeat()


@pytest.mark.parametrize(
    "body",
    [
        {"aggs": {"tags": {"terms": {"field": "tag"}}}},
        {"highlight": {"fields": {"title": {}}}},
    ],
)
def test_aggregations_and_highlighting_are_refused(body: dict[str, object]) -> None:
    indexer = EmbeddedIndexer()
    put(indexer, "1")
    with pytest.raises(SearchError):
        indexer.search("c", body, "b")


def test_load_from_config_reads_the_url(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/search.sqlite"
    indexer = embedded.load_from_config(Configurator(settings={"kinto_elasticsearch.embedded_url": url}))
    assert indexer.path == f"{tmp_path}/search.sqlite" and indexer.heartbeat()
    assert embedded.load_from_config(Configurator(settings={})).path is None
    with pytest.raises(ConfigurationError, match="embedded_url"):
        embedded.load_from_config(Configurator(settings={"kinto_elasticsearch.embedded_url": "postgresql://x"}))


def test_sizes_follow_the_settings() -> None:
    indexer = embedded.load_from_config(Configurator(settings={"kinto_elasticsearch.max_size": "2"}))
    put(indexer, "1", "2", "3")
    assert len(indexer.search("c", {"size": 50}, "b")["hits"]["hits"]) == 2
