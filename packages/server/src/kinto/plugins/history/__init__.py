"""History: every change of a bucket's objects, listed at ``/buckets/<bid>/history``.

Enabled as Kinto's is enabled::

    kinto.includes = kinto.plugins.history
    # Optional (Kinto 26.5's names, see kinto.plugins.history.options):
    kinto.history.exclude_resources = /buckets/drafts /buckets/main/collections/tmp
    kinto.history.exclude_user_ids = basicauth:robot...
    kinto.history.auto_trim_max_count = 10000
    kinto.history.auto_trim_threshold = 100
    kinto.history.auto_trim_user_ids = basicauth:robot...

Each create, update and delete of a bucket, collection, group or record adds
one entry, in the same transaction as the change (a write that fails records
nothing), at a cost that does not depend on the size of the history, trimming
included. The ``history`` capability shows the trimming and exclusion settings
in force. Deleting a bucket deletes its history.
"""

from __future__ import annotations

import functools
from typing import Any

from kinto.core import metrics
from kinto.core.events import ResourceChanged
from kinto.core.initialization import load_default_settings

from kinto.plugins.history.listener import record_changes
from kinto.plugins.history.options import DEFAULT_SETTINGS, HistoryOptions, excluded_resource_parts, read_options

__all__ = ["DEFAULT_SETTINGS", "includeme"]

DOCS = "http://kinto.readthedocs.io/en/latest/api/1.x/history.html"


def _capability(options: HistoryOptions) -> dict[str, Any]:
    """What Kinto's capability shows: the settings in force, only those that are set."""
    shown: dict[str, Any] = {}
    if options.max_count > 0:
        shown["auto_trim_max_count"] = options.max_count
    if options.trimmed_user_ids:
        shown["auto_trim_user_ids"] = list(options.trimmed_user_ids)
    if options.excluded_resources:
        shown["excluded_resources"] = [excluded_resource_parts(uri) for uri in options.excluded_resources]
    return shown


def includeme(config: Any) -> None:
    load_default_settings(config, DEFAULT_SETTINGS)
    options = read_options(config.get_settings())
    config.add_api_capability("history", description="Track changes on data.", url=DOCS, **_capability(options))
    config.scan("kinto.plugins.history.views")
    listener = metrics.listener_with_timer(
        config, "plugins.history", functools.partial(record_changes, options=options)
    )
    config.add_subscriber(listener, ResourceChanged, for_resources=("bucket", "group", "collection", "record"))
