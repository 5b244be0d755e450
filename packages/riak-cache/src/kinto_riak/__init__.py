"""kinto_riak: a Kinto cache backend on Riak KV's HTTP API.

Select it with ``kinto.cache_backend = kinto_riak.cache`` (or the entry-point
short name ``riak``) and point ``kinto.cache_url`` at a Riak node. The backend
lives in ``kinto_riak.cache``, its HTTP client in ``kinto_riak.kv``, and a Riak
stand-in server for tests in ``kinto_riak.testing``.
"""
