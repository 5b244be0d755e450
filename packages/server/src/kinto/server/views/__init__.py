"""The Kinto API: buckets, collections, groups, records and the permissions endpoint."""

from __future__ import annotations

from typing import Any


def includeme(config: Any) -> None:
    """Register the Kinto resources and their capabilities on ``config``."""
