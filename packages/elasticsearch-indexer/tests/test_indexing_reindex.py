"""Rebuilding indexes from storage: the Python function and the ``kinto reindex`` command's callable."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

import pytest
import webtest
from indexing_helpers import ALICE, BOB, post_article, titles, userid

from kinto_elasticsearch.reindex import add_arguments, command, reindex


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(argv)


def test_reindex_restores_a_lost_index_with_its_permissions(app: webtest.TestApp) -> None:
    post_article(app, "shared", ALICE, read=[userid("bob")])
    post_article(app, "private", ALICE)
    app.post_json("/v1/notes", {"data": {"title": "note"}}, headers=BOB, status=201)
    registry = app.app.registry
    registry.indexer.flush()
    assert titles(app, ALICE) == []

    lines: list[str] = []
    report = reindex(registry, progress=lines.append)

    assert (report.records, report.failures) == (3, 0)
    assert titles(app, ALICE) == ["private", "shared"]
    assert titles(app, BOB) == ["shared"]
    assert titles(app, BOB, path="notes") == ["note"]
    assert any("article" in line for line in lines) and lines[-1].startswith("Reindexed 3 records")


def test_reindex_pages_through_large_collections(app: webtest.TestApp) -> None:
    for index in range(7):
        post_article(app, f"t{index}", ALICE)
    app.app.registry.indexer.flush()
    lines: list[str] = []
    report = reindex(app.app.registry, collection_id="articles", batch_size=3, progress=lines.append)
    assert report.records == 7 and report.collections == 1
    assert [line for line in lines if "records indexed" in line] == [
        "article: 3 records indexed",
        "article: 6 records indexed",
        "article: 7 records indexed",
    ]
    assert len(titles(app, ALICE, {"size": 20})) == 7


def test_the_command_reindexes_one_resource(app: webtest.TestApp, capsys: pytest.CaptureFixture[str]) -> None:
    post_article(app, "hello", ALICE)
    app.app.registry.indexer.flush()
    env: dict[str, Any] = {"registry": app.app.registry, "app": app.app}
    assert command(env, parse("article")) == 0
    assert "Reindexed 1 records in 1 collection(s)" in capsys.readouterr().out
    assert titles(app, ALICE) == ["hello"]


def test_the_command_refuses_unknown_names(app: webtest.TestApp, capsys: pytest.CaptureFixture[str]) -> None:
    env: dict[str, Any] = {"registry": app.app.registry}
    assert command(env, parse("nothing")) == 1
    assert "no indexed resource named 'nothing'" in capsys.readouterr().err
    assert command(env, parse("a", "b")) == 1


def test_the_command_is_documented_for_kinto_help() -> None:
    assert command.__doc__ and command.__doc__.strip().startswith("rebuild search indexes")
    assert callable(command.add_arguments)


def test_the_reindex_entry_point_is_registered() -> None:
    from importlib import metadata

    points = {ep.name: ep.value for ep in metadata.entry_points(group="kinto.commands")}
    assert points["reindex"] == "kinto_elasticsearch.reindex:command"


def test_only_the_resources_listed_in_the_settings_are_indexed(make_search_app: Callable[..., webtest.TestApp]) -> None:
    app = make_search_app(**{"kinto_elasticsearch.resources": "article"})
    app.post_json("/v1/notes", {"data": {"title": "not indexed"}}, headers=ALICE, status=201)
    app.post_json("/v1/search/notes/", {}, headers=ALICE, status=404)
    assert reindex(app.app.registry).collections == 1
