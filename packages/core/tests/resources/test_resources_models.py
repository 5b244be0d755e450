"""Model subclasses: the seed example #6 as written, and overrides of the seed and newer method names."""

import uuid

import pytest

from kinto.core.resource import registered_resources

from .conftest import ALICE, BOB


def test_the_seed_indexed_model_indexes_every_creation(app, registry, create):
    indexer = registry.indexer
    first = create("/v1/indexed", {"title": "one"})
    app.put_json(f"/v1/indexed/{uuid.uuid4()}", {"data": {"title": "two"}}, headers=ALICE, status=201)
    create("/v1/indexed", {"title": "three"}, headers=BOB)
    # As written, the seed passes ``...`` to the indexer: what matters is that each creation reached it.
    assert indexer.calls == [((...,), {})] * 3
    app.patch_json(f"/v1/indexed/{first['id']}", {"data": {"title": "one!"}}, headers=ALICE)
    app.delete(f"/v1/indexed/{first['id']}", headers=ALICE)
    assert len(indexer.calls) == 3


def test_the_seed_indexed_resource_stays_a_user_resource(app, create):
    alices = create("/v1/indexed", {"title": "alice's"})
    assert app.get("/v1/indexed", headers=BOB).json["data"] == []
    assert app.get("/v1/indexed", headers=ALICE).json["data"] == [alices]
    app.get("/v1/indexed", status=401)


def test_a_failed_creation_does_not_reach_the_indexer(app, registry, create):
    existing = create("/v1/indexed", {"title": "one"})
    registry.indexer.calls.clear()
    app.post_json("/v1/indexed", {"data": {"id": existing["id"]}}, headers=ALICE, status=200)
    app.post_json("/v1/indexed", {"data": []}, headers=ALICE, status=400)
    assert registry.indexer.calls == []


def test_registered_resources_are_listed(app, registry):
    resources = registered_resources(registry)
    info = resources["indexed"]
    assert info.plural_path == "/indexed" and info.object_path == "/indexed/{id}"
    assert (info.plural_route, info.object_route) == ("indexed-plural", "indexed-object")
    assert resources["note"].plural_path == "/mynotes"
    assert resources["article"].plural_path == "/articles"
    assert resources["article"].object_path == "/articles/{id}"


def test_registered_resources_build_the_uris_the_app_serves(app, registry, create):
    note = create("/v1/mynotes", {"title": "one"})
    info = registered_resources(registry)["note"]
    assert (info.plural_uri(), info.object_uri(id=note["id"])) == ("/mynotes", f"/mynotes/{note['id']}")
    assert app.get("/v1" + info.object_uri(id=note["id"]), headers=ALICE).json["data"] == note
    assert app.get("/v1" + info.plural_uri(), headers=ALICE).json["data"] == [note]
    with pytest.raises(KeyError):
        info.object_uri()


@pytest.mark.parametrize(
    ("path", "names"),
    [
        (
            "/v1/journaleds",
            {
                "create": "create_record",
                "get": "get_record",
                "update": "update_record",
                "delete": "delete_record",
                "list": "get_records",
                "delete_many": "delete_records",
            },
        ),
        (
            "/v1/renameds",
            {
                "create": "create_object",
                "get": "get_object",
                "update": "update_object",
                "delete": "delete_object",
                "list": "get_objects",
                "delete_many": "delete_objects",
            },
        ),
    ],
)
def test_the_overridden_model_names_are_the_ones_called(app, registry, path, names):
    journal = registry.model_journal
    created = app.post_json(path, {"data": {"n": 1}}, headers=ALICE, status=201).json["data"]
    assert created["via"] == names["create"]
    assert names["create"] in journal
    journal.clear()
    app.get(f"{path}/{created['id']}", headers=ALICE)
    assert journal == [names["get"]]
    journal.clear()
    patched = app.patch_json(f"{path}/{created['id']}", {"data": {"n": 2}}, headers=ALICE).json["data"]
    assert patched["via"] == names["update"] and names["update"] in journal
    journal.clear()
    replaced = app.put_json(f"{path}/{created['id']}", {"data": {"n": 3}}, headers=ALICE).json["data"]
    assert replaced["via"] == names["update"] and names["update"] in journal
    journal.clear()
    app.get(path, headers=ALICE)
    assert journal == [names["list"]]
    journal.clear()
    app.delete(f"{path}/{created['id']}", headers=ALICE)
    assert names["delete"] in journal
    app.post_json(path, {"data": {"n": 4}}, headers=ALICE, status=201)
    journal.clear()
    app.delete(path, headers=ALICE)
    assert names["delete_many"] in journal
    assert app.get(path, headers=ALICE).json["data"] == []


def test_a_model_overriding_a_write_writes_conditionally_only_when_it_says_so():
    from kinto.core.resource import Model, ShareableModel
    from kinto.core.resource.model import writes_conditionally
    from kinto.core.storage.memory import Storage

    class Conditional(Storage):
        writes_conditionally = True

    class Unconditional(Storage):
        writes_conditionally = False

    class OwnUpdate(ShareableModel):
        def update_record(self, record, parent_id=None):
            return self.storage.update(self.resource_name, self.parent_id, record["id"], record)

    class PassingDelete(Model):
        passes_expected_versions = True

        def delete_object(self, obj, parent_id=None, last_modified=None):
            return super().delete_object(obj, parent_id=parent_id, last_modified=last_modified)

    class BelowPassing(PassingDelete):
        def create_record(self, record, parent_id=None):
            return super().create_record(record, parent_id=parent_id)

    class ReadsOnly(ShareableModel):
        def get_record(self, record_id, parent_id=None):
            return super().get_record(record_id, parent_id=parent_id)

    found = {
        model.__name__: writes_conditionally(model(Conditional()))
        for model in (Model, ShareableModel, OwnUpdate, PassingDelete, BelowPassing, ReadsOnly)
    }
    assert found == {
        "Model": True,
        "ShareableModel": True,
        "OwnUpdate": False,  # its own write would drop the condition: locked instead
        "PassingDelete": True,
        "BelowPassing": False,  # each overriding class says so for itself
        "ReadsOnly": True,
    }
    assert not writes_conditionally(Model(Unconditional()))
    assert not writes_conditionally(Model(None))
