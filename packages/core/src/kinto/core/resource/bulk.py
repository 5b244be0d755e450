"""Creates in bulk: how the batch view serves a run of POSTs to one list in one sub-request.

The batch view (:mod:`kinto.core.views.batch`) sends one sub-request for such a run, without a
body of its own, carrying the run's bodies in a :class:`BulkCreates`. Routing, authentication,
the permission check and the parent's existence are those of any POST to that list, checked
once; the resource's view then creates the objects with ``Resource.plural_post_many`` and
leaves the answers in ``outcomes``. A resource that serves POST its own way (a subclass
overriding ``plural_post``, a model without ``create_objects``) leaves ``outcomes`` unset, and
so does any other view reached by the sub-request: the batch then undoes it and runs each
POST on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kinto.core.resource.resource import Resource

__all__ = ["BulkCreates", "serve_bulk_creates"]

#: The request attribute holding a ``BulkCreates``.
_ATTRIBUTE = "bulk_creates"


@dataclass
class BulkCreates:
    """The bodies of a run of POSTs, and their answers once served."""

    bodies: list[dict[str, Any]]
    #: Per body: the created object's timestamp and response body, or None for a body a POST
    #: of its own must answer; None until a resource served them.
    outcomes: list[tuple[int, dict[str, Any]] | None] | None = None

    def attach(self, request: Any) -> None:
        setattr(request, _ATTRIBUTE, self)


def serve_bulk_creates(request: Any, resource: Any) -> bool:
    """Serve the request's ``BulkCreates`` with ``resource`` (a plural POST) if it carries one; whether it did."""
    bulk = getattr(request, _ATTRIBUTE, None)
    if not isinstance(bulk, BulkCreates):
        return False
    if type(resource).plural_post is Resource.plural_post and hasattr(resource.model, "create_objects"):
        bulk.outcomes = resource.plural_post_many(bulk.bodies)
    return True
