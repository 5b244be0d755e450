"""The core's cache contract suite, run against RiakCache on the stand-in (or RIAK_URL)."""

from __future__ import annotations

import pytest
from kinto.core.testing.cache import CacheContract
from kinto.core.testing.plugin import BackendFactory


class TestRiakCacheContract(CacheContract):
    @pytest.fixture
    def backend_factory(self, riak_url: str, bucket: str) -> BackendFactory:
        return BackendFactory(
            "kinto_riak.cache",
            {"cache_url": riak_url, "kinto_riak.bucket": bucket, "kinto_riak.read_timeout_seconds": 5},
            kind="cache",
        )
