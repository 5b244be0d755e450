"""Kinto's ``kinto.views.records``: ``Record``, the resource class of ``kinto.server.views.records``."""

from kinto.server.views.records import Record

__all__ = ["Record"]
