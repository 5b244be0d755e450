"""Resources of the test application (scanned by the fixtures).

* ``Article`` (``/articles``): shareable, JSON Schema, a read-only ``author``;
* ``Note`` (``/mynotes``): private to each user;
* ``Tag`` (``/tags``): a custom id generator and a reduced set of methods;
* ``Thing`` (``/things``): schemaless, open to authenticated users (queries, pagination, caching);
* ``Memo`` (``/memos``): shareable, creation restricted by the ``memo_create_principals`` setting;
* ``Book`` (``/books``) and ``Legacy`` (``/legacys``, when colander is installed): other schema kinds;
* ``Indexed`` (``/indexed``): the seed example #6 (``IndexedModel``/``IndexedResource``) as written;
* ``Journaled`` / ``Renamed``: models overriding the seed method names / the newer ones;
* ``Fragile`` (``/fragiles``): its model fails after writing, so the request rolls back.
"""

from typing import ClassVar

import kinto.core.resource
from kinto.core import resource
from kinto.core.storage.generators import Generator


class SlugGenerator(Generator):
    regexp = r"^[a-z][a-z0-9-]{0,30}$"

    def __call__(self):
        import uuid

        return "s" + uuid.uuid4().hex[:12]


@resource.register()
class Article(resource.ShareableResource):
    schema: ClassVar[dict] = {
        "type": "object",
        "properties": {
            "title": {"type": "string", "maxLength": 200},
            "status": {"type": "string", "enum": ["draft", "published"]},
            "rank": {"type": "number"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "meta": {"type": "object"},
        },
        "required": ["title"],
    }
    readonly_fields = ("author",)

    def process_object(self, new, old=None):
        if old is None:
            new = {**new, "author": self.request.prefixed_userid}
        return new


@resource.register(name="note", collection_path="/mynotes", record_path="/mynotes/{{id}}")
class Note(resource.UserResource):
    pass


@resource.register(plural_methods=("GET", "POST"), object_methods=("GET",))
class Tag(resource.Resource):
    id_generator = SlugGenerator
    schema: ClassVar[dict] = {
        "type": "object",
        "properties": {"label": {"type": "string"}},
        "additionalProperties": False,
    }


@resource.register()
class Thing(resource.Resource):
    """Any JSON object; ids may be chosen by clients (UUIDs)."""


@resource.register()
class Memo(resource.ShareableResource):
    pass


class BookSchema(resource.ResourceSchema):
    schema: ClassVar[dict] = {
        "type": "object",
        "properties": {"isbn": {"type": "string", "pattern": "^[0-9-]+$"}, "title": {"type": "string"}},
        "required": ["isbn"],
        "additionalProperties": False,
    }


@resource.register()
class Book(resource.Resource):
    """Validated by a ``ResourceSchema`` subclass holding a JSON Schema."""

    schema = BookSchema


try:
    import colander
except ImportError:  # colander is the application's choice, not a core dependency
    colander = None

if colander is not None:

    class LegacySchema(colander.MappingSchema):
        title = colander.SchemaNode(colander.String())
        pages = colander.SchemaNode(colander.Integer(), missing=colander.drop)

    @resource.register()
    class Legacy(resource.Resource):
        """Validated by a colander schema, the way Kinto applications wrote them."""

        schema = LegacySchema

    class KintoStyleSchema(resource.ResourceSchema):
        title = colander.SchemaNode(colander.String())
        pages = colander.SchemaNode(colander.Integer(), missing=colander.drop)

    @resource.register(name="kintostyle")
    class KintoStyle(resource.Resource):
        """A ``ResourceSchema`` subclass holding colander nodes, as Kinto's own resources do."""

        schema = KintoStyleSchema


# --- the seed example #6, exactly as documented -------------------------------------------------


class IndexedModel(kinto.core.resource.Model):
    def create_record(self, record):
        r = super().create_record(record)
        self.indexer.index_record(...)
        return r


class IndexedResource(kinto.core.resource.UserResource):
    def __init__(self, request, **kwargs):
        super().__init__(request, **kwargs)
        self.model.indexer = request.registry.indexer


# The application wires the model to the resource (the seed leaves it to the reader).
@resource.register(name="indexed", collection_path="/indexed", record_path="/indexed/{{id}}")
class Indexed(IndexedResource):
    default_model = IndexedModel


class RecordingIndexer:
    """What the seed's ``config.registry.indexer = ...`` holds in the tests: it remembers its calls."""

    def __init__(self):
        self.calls = []

    def index_record(self, *args, **kwargs):
        self.calls.append((args, kwargs))


# --- models overriding the seed names, or the newer ones ----------------------------------------


class JournalModel(kinto.core.resource.Model):
    """Overrides every seed name; writes which one ran into ``self.journal``."""

    journal = None

    def _note(self, name):
        if self.journal is not None:
            self.journal.append(name)

    def create_record(self, record, parent_id=None):
        self._note("create_record")
        return super().create_record({**record, "via": "create_record"}, parent_id=parent_id)

    def get_record(self, record_id, parent_id=None):
        self._note("get_record")
        return super().get_record(record_id, parent_id=parent_id)

    def update_record(self, record, parent_id=None):
        self._note("update_record")
        return super().update_record({**record, "via": "update_record"}, parent_id=parent_id)

    def delete_record(self, record, parent_id=None, last_modified=None):
        self._note("delete_record")
        return super().delete_record(record, parent_id=parent_id, last_modified=last_modified)

    def get_records(self, *args, **kwargs):
        self._note("get_records")
        return super().get_records(*args, **kwargs)

    def delete_records(self, *args, **kwargs):
        self._note("delete_records")
        return super().delete_records(*args, **kwargs)


class RenamedModel(kinto.core.resource.Model):
    """Overrides the newer ``*_object(s)`` names only."""

    journal = None

    def _note(self, name):
        if self.journal is not None:
            self.journal.append(name)

    def create_object(self, obj, parent_id=None):
        self._note("create_object")
        return super().create_object({**obj, "via": "create_object"}, parent_id=parent_id)

    def get_object(self, object_id, parent_id=None):
        self._note("get_object")
        return super().get_object(object_id, parent_id=parent_id)

    def update_object(self, obj, parent_id=None):
        self._note("update_object")
        return super().update_object({**obj, "via": "update_object"}, parent_id=parent_id)

    def delete_object(self, obj, parent_id=None, last_modified=None):
        self._note("delete_object")
        return super().delete_object(obj, parent_id=parent_id, last_modified=last_modified)

    def get_objects(self, *args, **kwargs):
        self._note("get_objects")
        return super().get_objects(*args, **kwargs)

    def delete_objects(self, *args, **kwargs):
        self._note("delete_objects")
        return super().delete_objects(*args, **kwargs)


class _WithJournal:
    def __init__(self, request, **kwargs):
        super().__init__(request, **kwargs)
        self.model.journal = request.registry.model_journal


@resource.register()
class Journaled(_WithJournal, resource.Resource):
    default_model = JournalModel


@resource.register()
class Renamed(_WithJournal, resource.Resource):
    default_model = RenamedModel


# --- a model failing after its write ------------------------------------------------------------


class FragileModel(kinto.core.resource.Model):
    def create_record(self, record, parent_id=None):
        created = super().create_record(record, parent_id=parent_id)
        if record.get("explode"):
            raise RuntimeError("the model failed after writing")
        return created

    def update_record(self, record, parent_id=None):
        updated = super().update_record(record, parent_id=parent_id)
        if record.get("explode"):
            raise RuntimeError("the model failed after writing")
        return updated


@resource.register()
class Fragile(resource.Resource):
    default_model = FragileModel


@resource.register(name="folder")
class Folder(resource.ShareableResource):
    """A parent: its permissions are inherited by its docs."""

    id_generator = SlugGenerator


@resource.register(
    name="doc", plural_path="/folders/{{folder_id}}/docs", object_path="/folders/{{folder_id}}/docs/{{id}}"
)
class Doc(resource.ShareableResource):
    """A child whose read/write/create come from its folder too."""

    permission_inheritance = {
        "read": {"folder": ["read", "write"], resource.SELF: ["read", "write"]},
        "write": {"folder": ["write"], resource.SELF: ["write"]},
        "create": {"folder": ["write"]},
    }
    default_principals = {}

    @classmethod
    def permission_parents(cls, matchdict):
        return {"folder": f"/folders/{matchdict['folder_id']}"}

    def get_parent_id(self, request):
        return f"/folders/{request.matchdict['folder_id']}"


def includeme(config):
    """Scan the resources and give the registry what the seed-style resources expect."""
    config.registry.indexer = RecordingIndexer()
    config.registry.model_journal = []
    config.scan(__name__)
