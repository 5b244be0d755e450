"""The base class of listeners configured from settings (Kinto's ``kinto.core.listeners``).

A listener module named in the settings exposes
``load_from_config(config, prefix) -> ListenerBase``::

    kinto.event_listeners = audit
    kinto.event_listeners.audit.use = myproject.audit
    kinto.event_listeners.audit.actions = create delete
    kinto.event_listeners.audit.resources = record

``prefix`` is ``"event_listeners.audit."``: the listener reads its own
options under it. The listener is then called with each matching
``ResourceChanged`` (and ``ResourceRead`` when ``read`` is among its actions);
see :mod:`kinto.core.events` for what is announced and when.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ListenerBase"]


class ListenerBase:
    """A callable receiving resource events.

    The constructor accepts and ignores any arguments, so subclasses may take
    whatever their ``load_from_config`` passes them.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __call__(self, event: Any) -> None:
        """Handle one event (a :class:`kinto.core.events.ResourceChanged` or
        :class:`~kinto.core.events.ResourceRead`).

        Called inside the request's transaction: raising fails the request and
        rolls its changes back.
        """
        raise NotImplementedError
