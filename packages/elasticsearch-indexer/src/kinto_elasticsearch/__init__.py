"""kinto_elasticsearch: index kinto.core resources and search them, showing each caller only what it may read.

Include it (``kinto.includes = kinto_elasticsearch``); ``kinto.indexing_backend``
picks the indexer (``kinto_elasticsearch.elasticsearch`` by default, or
``kinto_elasticsearch.embedded`` with no server). Records are indexed through
the core's ``AfterResourceChanged`` events (:mod:`kinto_elasticsearch.listener`),
searched through ``POST /search/<collection>/`` and, on the Kinto server,
``/buckets/<bid>/collections/<cid>/search`` (:mod:`kinto_elasticsearch.views`).
"""
