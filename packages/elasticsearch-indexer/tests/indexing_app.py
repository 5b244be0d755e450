"""A kinto.core application for the tests: shared articles, private notes, and a plain resource."""

from __future__ import annotations

from typing import Any, ClassVar

from kinto.core.resource import Resource, ShareableResource, UserResource, register_resource


class Article(ShareableResource):
    """Shared one by one: readers see the articles shared with them."""

    schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {"title": {"type": "string"}, "n": {"type": "integer"}},
        "required": ["title"],
    }


class Note(UserResource):
    """Private to each user."""


class Bulletin(Resource):
    """No per-object permissions: readable by whoever the settings allow."""


def includeme(config: Any) -> None:
    register_resource(config, Article, name="article", plural_path="/articles", object_path="/articles/{{id}}")
    register_resource(config, Note, name="note")
    register_resource(config, Bulletin, name="bulletin")
