"""The resources of myproject."""

from kinto.core import resource


@resource.register()
class Article(resource.ShareableResource):
    """``/v1/articles``: articles shared between their authors and readers."""

    schema = {
        "type": "object",
        "properties": {
            "title": {"type": "string", "minLength": 1, "maxLength": 200},
            "body": {"type": "string"},
            "published": {"type": "boolean"},
            "tags": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["title"],
        "additionalProperties": False,
    }
