"""Kinto's ``kinto.views.collections``: ``Collection``, the resource class of ``kinto.server.views.collections``."""

from kinto.server.views.collections import Collection

__all__ = ["Collection"]
