"""What indexing adds to a record creation, and what a search costs.

    python packages/elasticsearch-indexer/bench/indexing_overhead.py [--records 500] [--repeats 3]

Creates records through WebTest (POST /v1/articles of a kinto.core app on the
memory backends) without the plugin, with the embedded indexer, and with the
Elasticsearch indexer on osmem-server (an in-memory OpenSearch-compatible server
on 127.0.0.1; ``ELASTICSEARCH_URL`` selects a real Elasticsearch instead), then
prints the median time per creation and the ratio to the app without plugin,
and the time of a permission-filtered ``match`` search over the records created.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from kinto.core.testing import basic_auth_header, make_app

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

SETTINGS = {"multiauth.policies": "basicauth", "userid_hmac_secret": "bench"}
ALICE = basic_auth_header("alice")
WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"]


def build(variant: str, es_url: str | None, compatibility: bool) -> Any:
    settings: dict[str, Any] = dict(SETTINGS)
    includes = ["indexing_app"]
    if variant != "no plugin":
        includes.append("kinto_elasticsearch")
    if variant == "embedded":
        settings["kinto.indexing_backend"] = "kinto_elasticsearch.embedded"
    elif variant == "elasticsearch":
        settings.update(
            {
                "kinto_elasticsearch.hosts": es_url,
                "kinto_elasticsearch.compatibility_headers": str(compatibility),
                "kinto_elasticsearch.index_prefix": f"bench-{uuid.uuid4().hex[:8]}",
            }
        )
    return make_app(settings, includes)


def create_records(app: Any, count: int) -> float:
    """Seconds per POST, mean over ``count`` creations."""
    start = time.perf_counter()
    for index in range(count):
        title = " ".join(WORDS[(index + k) % len(WORDS)] for k in range(3))
        app.post_json("/v1/articles", {"data": {"title": title, "n": index}}, headers=ALICE, status=201)
    return (time.perf_counter() - start) / count


def search_time(app: Any, searches: int = 50) -> float:
    body = {"query": {"match": {"title": "alpha"}}, "size": 10}
    app.post_json("/v1/search/articles/", body, headers=basic_auth_header("bob"))
    start = time.perf_counter()
    for _ in range(searches):
        app.post_json("/v1/search/articles/", body, headers=basic_auth_header("bob"))
    return (time.perf_counter() - start) / searches


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    server = None
    es_url = os.environ.get("ELASTICSEARCH_URL")
    compatibility = bool(es_url)
    if not es_url:
        from osmem_server import OsmemServer

        server = OsmemServer.start(japanese=False, addr="127.0.0.1:0")
        es_url = server.url
    try:
        results: dict[str, list[float]] = {}
        searches: dict[str, float] = {}
        for _ in range(args.repeats):
            for variant in ("no plugin", "embedded", "elasticsearch"):
                app = build(variant, es_url, compatibility)
                results.setdefault(variant, []).append(create_records(app, args.records))
                if variant != "no plugin":
                    if variant == "elasticsearch":
                        app.app.registry.indexer.refresh("article")
                    searches[variant] = search_time(app)
                    app.app.registry.indexer.flush()
    finally:
        if server is not None:
            server.close()

    baseline = statistics.median(results["no plugin"])
    print(f"{args.records} creations per run, median of {args.repeats} runs (WebTest, memory backends)")
    for variant, times in results.items():
        median = statistics.median(times)
        search = f"   search {searches[variant] * 1000:6.2f} ms" if variant in searches else ""
        print(f"  {variant:14s} {median * 1000:6.2f} ms/POST   x{median / baseline:4.2f}{search}")


if __name__ == "__main__":
    main()
