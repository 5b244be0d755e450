"""Resources of the OpenAPI tests' application."""

from kinto.core import resource
from kinto.core.storage.generators import Generator


class SlugGenerator(Generator):
    regexp = r"^[a-z][a-z0-9-]{0,30}$"

    def __call__(self):
        import uuid

        return "s" + uuid.uuid4().hex[:12]


@resource.register()
class Article(resource.ShareableResource):
    schema = {
        "type": "object",
        "properties": {"title": {"type": "string", "maxLength": 200}, "rank": {"type": "number"}},
        "required": ["title"],
    }


@resource.register(name="note", collection_path="/mynotes", record_path="/mynotes/{{id}}")
class Note(resource.UserResource):
    pass


@resource.register(plural_methods=("GET", "POST"), object_methods=("GET",))
class Tag(resource.Resource):
    id_generator = SlugGenerator
    schema = {"type": "object", "properties": {"label": {"type": "string"}}, "additionalProperties": False}
