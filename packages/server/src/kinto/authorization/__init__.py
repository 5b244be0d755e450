"""Kinto's ``kinto.authorization``: the route context plugin views of Kinto 26.5 subclass.

Stable API for plugin authors: ``RouteFactory`` (``kinto.core.authorization.RouteFactory``;
set ``resource_name = "record"`` and ``permission_object_id``/``required_permission`` to get
the permissions of the Kinto hierarchy, a record's ``write`` granted by ``write`` on the
record, its collection or its bucket).

Kinto's ``AuthorizationPolicy`` (a Pyramid 1 authorization policy) has no counterpart: the
core installs one Pyramid security policy (``kinto.core.authorization.SecurityPolicy``) and
each resource declares its inheritance (``permission_inheritance``).
"""

from kinto.core.authorization import RouteFactory

__all__ = ["RouteFactory"]
