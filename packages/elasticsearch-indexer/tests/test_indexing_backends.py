"""The query DSL subset, run the same on the embedded indexer and on an Elasticsearch-compatible server."""

from __future__ import annotations

from typing import Any

import pytest

from kinto_elasticsearch.indexer import BulkOperation, IndexerBase, SearchError

SCHEMA = {
    "properties": {
        "tag": {"type": "keyword"},
        "tags": {"type": "keyword"},
        "date": {"type": "date"},
        "title": {"type": "text"},
    }
}
RECORDS = [
    {
        "id": "r1",
        "title": "Hello world",
        "n": 1,
        "tag": "a",
        "tags": ["x", "y"],
        "author": {"name": "Alice"},
        "published": True,
        "date": "2024-01-01",
        "last_modified": 100,
    },
    {
        "id": "r2",
        "title": "Hello there, hello again",
        "n": 2,
        "tag": "b",
        "tags": ["y"],
        "author": {"name": "Bob"},
        "published": False,
        "date": "2024-02-01",
        "last_modified": 200,
    },
    {
        "id": "r3",
        "title": "Goodbye world",
        "n": 3,
        "tag": "a",
        "author": {"name": "alice"},
        "date": "2024-03-01",
        "last_modified": 300,
    },
    {"id": "r4", "title": "Nothing to see", "n": 10, "tag": "c", "extra": None, "last_modified": 400},
]
READERS = {"r1": ["p1"], "r2": ["p1", "p2"], "r3": ["p2"], "r4": []}


@pytest.fixture
def filled(indexer: IndexerBase) -> IndexerBase:
    indexer.create_index("c1", "b1", SCHEMA)
    operations = [
        BulkOperation(
            ("b1", "c1"),
            "index",
            record["id"],
            {**record, "__kinto__": {"principals": READERS[record["id"]], "parent_id": "/b1/c1"}},
        )
        for record in RECORDS
    ]
    result = indexer.bulk(operations, refresh=True)
    assert result.succeeded == 4 and not result.failures
    return indexer


def search(indexer: IndexerBase, body: dict[str, Any] | None, **kwargs: Any) -> dict[str, Any]:
    return indexer.search("c1", body, "b1", **kwargs)


def ids(indexer: IndexerBase, body: dict[str, Any] | None, **kwargs: Any) -> set[str]:
    return {hit["_id"] for hit in search(indexer, body, **kwargs)["hits"]["hits"]}


def ordered_ids(indexer: IndexerBase, body: dict[str, Any]) -> list[str]:
    return [hit["_id"] for hit in search(indexer, body)["hits"]["hits"]]


def test_match_all_finds_every_record_and_counts_them(filled: IndexerBase) -> None:
    result = search(filled, None)
    assert result["hits"]["total"] == {"value": 4, "relation": "eq"}
    assert {hit["_id"] for hit in result["hits"]["hits"]} == {"r1", "r2", "r3", "r4"}


def test_sources_are_the_records_without_the_reserved_field(filled: IndexerBase) -> None:
    hit = search(filled, {"query": {"ids": {"values": ["r1"]}}})["hits"]["hits"][0]
    assert hit["_source"] == RECORDS[0]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"match": {"title": "hello"}}, {"r1", "r2"}),
        ({"match": {"title": "HELLO goodbye"}}, {"r1", "r2", "r3"}),
        ({"match": {"title": {"query": "hello world", "operator": "and"}}}, {"r1"}),
        ({"match_phrase": {"title": "hello world"}}, {"r1"}),
        ({"match_phrase": {"title": "world hello"}}, set()),
        ({"term": {"tag": "a"}}, {"r1", "r3"}),
        ({"term": {"tag": {"value": "b"}}}, {"r2"}),
        ({"term": {"title": "hello"}}, {"r1", "r2"}),
        ({"term": {"title": "Hello"}}, set()),
        ({"term": {"author.name.keyword": "Alice"}}, {"r1"}),
        ({"term": {"n": 3}}, {"r3"}),
        ({"term": {"published": True}}, {"r1"}),
        ({"terms": {"tag": ["a", "c"]}}, {"r1", "r3", "r4"}),
        ({"terms": {"tags": ["x"]}}, {"r1"}),
        ({"range": {"n": {"gte": 2, "lt": 10}}}, {"r2", "r3"}),
        ({"range": {"n": {"gt": 3}}}, {"r4"}),
        ({"range": {"date": {"gte": "2024-02-01"}}}, {"r2", "r3"}),
        ({"exists": {"field": "tags"}}, {"r1", "r2"}),
        ({"exists": {"field": "extra"}}, set()),
        ({"prefix": {"tag": "a"}}, {"r1", "r3"}),
        ({"wildcard": {"author.name.keyword": "*lice"}}, {"r1", "r3"}),
        ({"ids": {"values": ["r2", "r4", "nope"]}}, {"r2", "r4"}),
        ({"match_none": {}}, set()),
        (
            {
                "bool": {
                    "must": [{"match": {"title": "world"}}],
                    "must_not": [{"term": {"tag": "c"}}],
                    "filter": [{"range": {"n": {"lte": 1}}}],
                }
            },
            {"r1"},
        ),
        ({"bool": {"should": [{"term": {"tag": "b"}}, {"term": {"tag": "c"}}]}}, {"r2", "r4"}),
        (
            {"bool": {"should": [{"term": {"tag": "a"}}, {"match": {"title": "world"}}], "minimum_should_match": 2}},
            {"r1", "r3"},
        ),
        ({"bool": {"filter": {"term": {"tag": "a"}}, "should": [{"match": {"title": "hello"}}]}}, {"r1", "r3"}),
        ({"constant_score": {"filter": {"term": {"tag": "a"}}}}, {"r1", "r3"}),
        ({"dis_max": {"queries": [{"term": {"tag": "c"}}, {"term": {"n": 1}}]}}, {"r1", "r4"}),
        ({"multi_match": {"query": "alice", "fields": ["author.name", "title"]}}, {"r1", "r3"}),
        ({"query_string": {"query": "title:hello AND tag:b"}}, {"r2"}),
        ({"query_string": {"query": "goodbye OR nothing"}}, {"r3", "r4"}),
        ({"query_string": {"query": "hello -world"}}, {"r2"}),
        ({"query_string": {"query": 'title:"hello world"'}}, {"r1"}),
        ({"query_string": {"query": "n:>2"}}, {"r3", "r4"}),
        ({"query_string": {"query": "hell*", "default_field": "title"}}, {"r1", "r2"}),
        ({"simple_query_string": {"query": "goodbye | nothing"}}, {"r3", "r4"}),
    ],
)
def test_query_clauses_select_the_records_elasticsearch_would(
    filled: IndexerBase, query: dict[str, Any], expected: set[str]
) -> None:
    assert ids(filled, {"query": query}) == expected


def test_relevance_puts_the_closest_match_first(filled: IndexerBase) -> None:
    assert ordered_ids(filled, {"query": {"match": {"title": "goodbye world"}}}) == ["r3", "r1"]


def test_sorting_by_fields_returns_sort_values(filled: IndexerBase) -> None:
    hits = search(filled, {"sort": [{"n": "desc"}]})["hits"]["hits"]
    assert [hit["_id"] for hit in hits] == ["r4", "r3", "r2", "r1"]
    assert [hit["sort"] for hit in hits] == [[10], [3], [2], [1]]


def test_sorting_puts_missing_values_last_either_way(filled: IndexerBase) -> None:
    assert ordered_ids(filled, {"sort": [{"date": "desc"}, "n"]}) == ["r3", "r2", "r1", "r4"]
    assert ordered_ids(filled, {"sort": [{"date": {"order": "asc"}}]}) == ["r1", "r2", "r3", "r4"]


def test_sorting_on_a_text_field_is_refused_but_its_keyword_works(filled: IndexerBase) -> None:
    with pytest.raises(SearchError):
        search(filled, {"sort": ["author.name"]})
    assert ordered_ids(filled, {"sort": ["author.name.keyword"], "query": {"exists": {"field": "author"}}}) == [
        "r1",
        "r2",
        "r3",
    ]


def test_pages_with_from_and_size_and_search_after(filled: IndexerBase) -> None:
    assert ordered_ids(filled, {"sort": ["n"], "size": 2}) == ["r1", "r2"]
    assert ordered_ids(filled, {"sort": ["n"], "size": 2, "from": 2}) == ["r3", "r4"]
    assert ordered_ids(filled, {"sort": ["n"], "search_after": [2]}) == ["r3", "r4"]
    result = search(filled, {"sort": ["n"], "size": 1})
    assert result["hits"]["total"]["value"] == 4


def test_source_filtering(filled: IndexerBase) -> None:
    hit = search(filled, {"query": {"ids": {"values": ["r1"]}}, "_source": ["title", "author.*"]})["hits"]["hits"][0]
    assert hit["_source"] == {"title": "Hello world", "author": {"name": "Alice"}}
    hit = search(filled, {"query": {"ids": {"values": ["r1"]}}, "_source": {"excludes": ["tags", "author"]}})
    assert set(hit["hits"]["hits"][0]["_source"]) == {"id", "title", "n", "tag", "published", "date", "last_modified"}


def test_trusted_filters_restrict_whatever_the_body_says(filled: IndexerBase) -> None:
    readers = [{"terms": {"__kinto__.principals": ["p1"]}}]
    assert ids(filled, None, filters=readers) == {"r1", "r2"}
    crafted = {
        "query": {"bool": {"should": [{"match_all": {}}, {"ids": {"values": ["r3", "r4"]}}], "minimum_should_match": 0}}
    }
    assert ids(filled, crafted, filters=readers) == {"r1", "r2"}


@pytest.mark.parametrize(
    "body",
    [
        {"query": {"terms": {"__kinto__.principals": ["p2"]}}},
        {"query": {"query_string": {"query": "__kinto__.principals:p2"}}},
        {"sort": ["__kinto__.parent_id"]},
        {"query": {"script": {"script": {"source": "true"}}}},
        {"query": {"bool": {"filter": [{"script": {"script": "1"}}]}}},
        {"query": {"terms": {"tag": {"index": "other", "id": "1", "path": "tags"}}}},
        {"query": {"more_like_this": {"like": [{"_index": "other", "_id": "1"}]}}},
        {"query": {"wrapper": {"query": "eyJtYXRjaF9hbGwiOnt9fQ=="}}},
        {"query": {"nope": {}}},
        {"suggest": {"s": {"text": "hello", "term": {"field": "title"}}}},
        {"aggs": {"all": {"global": {}}}},
        {"size": -1},
        {"from": 90, "size": 20},
        {"query": "hello"},
    ],
)
def test_unsafe_or_invalid_bodies_are_refused(filled: IndexerBase, body: dict[str, Any]) -> None:
    with pytest.raises(SearchError):
        search(filled, body)


def test_size_is_capped(filled: IndexerBase) -> None:
    filled.bulk(
        [BulkOperation(("b1", "c1"), "index", f"x{i}", {"id": f"x{i}", "__kinto__": {}}) for i in range(60)],
        refresh=True,
    )
    assert len(search(filled, {"size": 80})["hits"]["hits"]) == 50


def test_deleted_records_disappear_and_deleting_twice_succeeds(filled: IndexerBase) -> None:
    result = filled.bulk(
        [BulkOperation(("b1", "c1"), "delete", "r1"), BulkOperation(("b1", "c1"), "delete", "missing")], refresh=True
    )
    assert result.succeeded == 2
    assert ids(filled, None) == {"r2", "r3", "r4"}


def test_replacing_a_record_reindexes_it(filled: IndexerBase) -> None:
    filled.index_record("c1", {"id": "r1", "title": "Renamed"}, "b1", metadata={"principals": ["p1"]})
    filled.refresh("c1", "b1")
    assert ids(filled, {"query": {"match": {"title": "hello"}}}) == {"r2"}
    assert ids(filled, {"query": {"match": {"title": "renamed"}}}) == {"r1"}
    filled.unindex_record("c1", "r1", "b1")
    filled.refresh("c1", "b1")
    assert ids(filled, {"query": {"match": {"title": "renamed"}}}) == set()


def test_a_collection_without_index_has_no_hits(indexer: IndexerBase) -> None:
    assert indexer.search("nothing", {"query": {"match_all": {}}}, "b1")["hits"]["hits"] == []
    assert not indexer.index_exists("nothing", "b1")


def test_indexes_are_listed_and_deleted_per_collection_or_bucket(indexer: IndexerBase) -> None:
    for bucket, collection in [("b1", "c1"), ("b1", "C-2"), ("b2", "c1")]:
        indexer.create_index(collection, bucket)
    indexer.create_index("articles")
    assert indexer.list_indexes() == sorted([("b1", "c1"), ("b1", "C-2"), ("b2", "c1"), ("articles",)])
    indexer.delete_index("c1", "b1")
    assert not indexer.index_exists("c1", "b1")
    indexer.delete_index(None, "b1")
    assert indexer.list_indexes() == sorted([("b2", "c1"), ("articles",)])
    indexer.delete_index("missing", "b9")
    indexer.flush()
    assert indexer.list_indexes() == []


def test_collections_differing_by_case_or_dashes_are_different_indexes(indexer: IndexerBase) -> None:
    indexer.bulk(
        [
            BulkOperation(("B", "c"), "index", "1", {"id": "1", "__kinto__": {}}),
            BulkOperation(("b", "c"), "index", "2", {"id": "2", "__kinto__": {}}),
            BulkOperation(("b-c", "d"), "index", "3", {"id": "3", "__kinto__": {}}),
            BulkOperation(("b", "c-d"), "index", "4", {"id": "4", "__kinto__": {}}),
        ],
        refresh=True,
    )
    assert [hit["_id"] for hit in indexer.search("c", None, "B")["hits"]["hits"]] == ["1"]
    assert [hit["_id"] for hit in indexer.search("c", None, "b")["hits"]["hits"]] == ["2"]
    assert [hit["_id"] for hit in indexer.search("d", None, "b-c")["hits"]["hits"]] == ["3"]
    assert [hit["_id"] for hit in indexer.search("c-d", None, "b")["hits"]["hits"]] == ["4"]


def test_mappings_grow_but_a_field_never_changes_type(indexer: IndexerBase) -> None:
    indexer.create_index("c1", "b1", {"properties": {"tag": {"type": "keyword"}}})
    indexer.update_mapping("c1", "b1", {"properties": {"other": {"type": "keyword"}}})
    with pytest.raises(SearchError):
        indexer.update_mapping("c1", "b1", {"properties": {"tag": {"type": "long"}}})
    with pytest.raises(SearchError):
        indexer.create_index("c2", "b1", {"properties": {"x": {"type": "no-such-type"}}})


def test_an_index_created_without_schema_maps_strings_dynamically(indexer: IndexerBase) -> None:
    indexer.index_record("c1", {"id": "a", "title": "Mixed Case"}, "b1", metadata={})
    indexer.refresh("c1", "b1")
    assert [
        h["_id"]
        for h in indexer.search("c1", {"query": {"term": {"title.keyword": "Mixed Case"}}}, "b1")["hits"]["hits"]
    ] == ["a"]
    assert [h["_id"] for h in indexer.search("c1", {"query": {"term": {"id": "a"}}}, "b1")["hits"]["hits"]] == ["a"]


def test_stats_count_what_was_indexed(indexer: IndexerBase) -> None:
    indexer.bulk(
        [
            BulkOperation(("b", "c"), "index", "1", {"id": "1", "__kinto__": {}}),
            BulkOperation(("b", "c"), "delete", "2"),
        ]
    )
    assert indexer.stats.as_dict() == {"indexed": 1, "deleted": 1, "failures": 0}
