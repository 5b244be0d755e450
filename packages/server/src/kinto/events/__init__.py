"""Kinto's ``kinto.events``: ``ServerFlushed``, announced after ``POST /__flush__`` emptied the backends.

Stable API for plugin authors; the class is ``kinto.core.events.ServerFlushed``.
"""

from kinto.core.events import ServerFlushed

__all__ = ["ServerFlushed"]
