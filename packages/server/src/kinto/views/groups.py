"""Kinto's ``kinto.views.groups``: ``Group``, the resource class of ``kinto.server.views.groups``."""

from kinto.server.views.groups import Group

__all__ = ["Group"]
