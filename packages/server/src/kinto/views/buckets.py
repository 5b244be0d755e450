"""Kinto's ``kinto.views.buckets``: ``Bucket``, the resource class of ``kinto.server.views.buckets``."""

from kinto.server.views.buckets import Bucket

__all__ = ["Bucket"]
