"""The storage contract: creating, reading, updating and deleting objects, and the values a backend refuses."""

from __future__ import annotations

import pytest

from kinto.core.storage import Filter, StorageBase, generators
from kinto.core.storage.exceptions import (
    InvalidValueError,
    ObjectNotFoundError,
    RecordNotFoundError,
    UnicityError,
)
from kinto.core.testing.storage.base import (
    OTHER_PARENT,
    PARENT,
    RESOURCE,
    C,
    StorageSuite,
)


class ObjectsContract(StorageSuite):
    """``StorageContract``'s tests of creating, reading, updating and deleting objects."""

    # --- contract shape -------------------------------------------------------------------------------

    def test_backend_implements_the_contract(self, storage):
        assert isinstance(storage, StorageBase)
        assert isinstance(type(storage).supports_transactions, bool)
        assert isinstance(type(storage).supports_concurrent_processes, bool)

    def test_heartbeat_answers_true(self, storage):
        assert storage.heartbeat() is True

    def test_initialize_schema_is_idempotent(self, storage):
        storage.create(RESOURCE, PARENT, {"id": "kept"})
        storage.initialize_schema()
        storage.initialize_schema(dry_run=True)
        assert storage.get(RESOURCE, PARENT, "kept")["id"] == "kept"

    # --- create / get ---------------------------------------------------------------------------------

    def test_create_assigns_an_id_and_a_timestamp(self, storage):
        created = storage.create(RESOURCE, PARENT, {"title": "hello"})
        assert generators.UUID4().match(created["id"])
        assert isinstance(created["last_modified"], int)
        assert created["title"] == "hello"

    def test_create_uses_the_given_id_generator(self, storage):
        class Fixed(generators.Generator):
            def __call__(self):
                return "fixed-id"

        assert storage.create(RESOURCE, PARENT, {}, id_generator=Fixed())["id"] == "fixed-id"

    def test_create_keeps_a_given_id(self, storage):
        assert storage.create(RESOURCE, PARENT, {"id": "mine"})["id"] == "mine"
        assert storage.get(RESOURCE, PARENT, "mine")["id"] == "mine"

    def test_create_does_not_modify_the_given_object(self, storage):
        obj = {"title": "x", "nested": {"a": 1}}
        storage.create(RESOURCE, PARENT, obj)
        assert obj == {"title": "x", "nested": {"a": 1}}

    def test_get_returns_what_create_returned(self, storage):
        created = storage.create(RESOURCE, PARENT, {"title": "x", "tags": ["a", "b"]})
        assert storage.get(RESOURCE, PARENT, created["id"]) == created

    def test_returned_objects_are_copies(self, storage):
        created = storage.create(RESOURCE, PARENT, {"id": "a", "nested": {"n": 1}})
        created["nested"]["n"] = 2
        fetched = storage.get(RESOURCE, PARENT, "a")
        fetched["nested"]["n"] = 3
        assert storage.get(RESOURCE, PARENT, "a")["nested"] == {"n": 1}

    @pytest.mark.parametrize(
        "value",
        [
            None,
            True,
            False,
            0,
            -17,
            2**53,
            2**64 + 1,  # beyond 64 bits: exact, never a float
            -(2**63) - 1,
            10**30,
            [12345678901234567890123, "12345678901234567890123"],
            3.25,
            "",
            "ünïcødé ☃ 🎉",
            'quote " and \\ backslash',
            "\\u0000 as text",
            [1, "two", None, [3]],
            {"deep": {"deeper": {"deepest": [True]}}},
        ],
    )
    def test_json_values_round_trip_with_their_types(self, storage, value):
        created = storage.create(RESOURCE, PARENT, {"value": value})
        fetched = storage.get(RESOURCE, PARENT, created["id"])["value"]
        assert fetched == value
        assert type(fetched) is type(value)
        listed = storage.list_all(RESOURCE, PARENT)
        assert [obj["value"] for obj in listed] == [value]
        assert type(listed[0]["value"]) is type(value)

    def test_create_with_an_existing_id_raises_unicity_error_carrying_it(self, storage):
        first = storage.create(RESOURCE, PARENT, {"id": "dup", "v": 1})
        with pytest.raises(UnicityError) as raised:
            storage.create(RESOURCE, PARENT, {"id": "dup", "v": 2})
        assert raised.value.existing == first
        assert storage.get(RESOURCE, PARENT, "dup")["v"] == 1

    def test_a_refused_create_or_delete_leaves_the_collection_timestamp(self, storage):
        storage.create(RESOURCE, PARENT, {"id": "taken"})
        storage.create(RESOURCE, PARENT, {"id": "gone"})
        storage.delete(RESOURCE, PARENT, "gone")
        stamp = storage.resource_timestamp(RESOURCE, PARENT)
        with pytest.raises(UnicityError):
            storage.create(RESOURCE, PARENT, {"id": "taken"})
        for object_id in ("gone", "never"):
            with pytest.raises(ObjectNotFoundError):
                storage.delete(RESOURCE, PARENT, object_id)
        assert storage.resource_timestamp(RESOURCE, PARENT) == stamp

    def test_same_id_may_live_in_other_parents_and_resources(self, storage):
        storage.create(RESOURCE, PARENT, {"id": "same", "where": 1})
        storage.create(RESOURCE, OTHER_PARENT, {"id": "same", "where": 2})
        storage.create("other", PARENT, {"id": "same", "where": 3})
        assert storage.get(RESOURCE, PARENT, "same")["where"] == 1
        assert storage.get(RESOURCE, OTHER_PARENT, "same")["where"] == 2
        assert storage.get("other", PARENT, "same")["where"] == 3

    def test_create_over_a_tombstone_revives_the_id(self, storage):
        storage.create(RESOURCE, PARENT, {"id": "phoenix", "life": 1})
        storage.delete(RESOURCE, PARENT, "phoenix")
        storage.create(RESOURCE, PARENT, {"id": "phoenix", "life": 2})
        assert storage.get(RESOURCE, PARENT, "phoenix")["life"] == 2
        listed = storage.list_all(RESOURCE, PARENT, include_deleted=True)
        assert [o.get("deleted") for o in listed] == [None]

    @pytest.mark.parametrize("operation", ["get", "delete"])
    def test_get_or_delete_of_a_missing_object_raises_object_not_found(self, storage, operation):
        with pytest.raises(ObjectNotFoundError):
            getattr(storage, operation)(RESOURCE, PARENT, "nope")

    def test_object_not_found_is_also_kintos_record_not_found(self, storage):
        with pytest.raises(RecordNotFoundError):
            storage.get(RESOURCE, PARENT, "nope")

    @pytest.mark.parametrize("operation", ["get", "delete"])
    def test_get_or_delete_of_a_deleted_object_raises_object_not_found(self, storage, operation):
        storage.create(RESOURCE, PARENT, {"id": "gone"})
        storage.delete(RESOURCE, PARENT, "gone")
        with pytest.raises(ObjectNotFoundError):
            getattr(storage, operation)(RESOURCE, PARENT, "gone")

    # --- values that cannot be stored ---------------------------------------------------------------

    @pytest.mark.parametrize(
        "obj",
        [{"title": "a\x00b"}, {"a\x00": 1}, {"nested": {"list": ["ok", "\x00"]}}, {"id": "bad\x00id"}],
        ids=["value", "key", "nested", "id"],
    )
    def test_nul_characters_are_rejected_and_nothing_is_stored(self, storage, obj):
        with pytest.raises(InvalidValueError):
            storage.create(RESOURCE, PARENT, obj)
        with pytest.raises(InvalidValueError):
            storage.update(RESOURCE, PARENT, obj.get("id", "some-id"), obj)
        assert storage.count_all(RESOURCE, PARENT) == 0

    def test_ids_holding_nul_are_never_found(self, storage):
        with pytest.raises(ObjectNotFoundError):
            storage.get(RESOURCE, PARENT, "bad\x00id")
        with pytest.raises(ObjectNotFoundError):
            storage.delete(RESOURCE, PARENT, "bad\x00id")

    def test_nul_in_parent_ids_is_never_a_backend_error(self, storage):
        parent = "/buckets/a\x00b"
        with pytest.raises(InvalidValueError):
            storage.create(RESOURCE, parent, {})
        with pytest.raises(InvalidValueError):
            storage.update(RESOURCE, parent, "a", {})
        with pytest.raises(InvalidValueError):
            storage.resource_timestamp(RESOURCE, parent)
        with pytest.raises(ObjectNotFoundError):
            storage.get(RESOURCE, parent, "a")
        assert storage.list_all(RESOURCE, parent) == []
        assert storage.count_all(RESOURCE, parent + "*") == 0
        assert storage.delete_all(RESOURCE, parent) == []
        assert storage.purge_deleted(RESOURCE, parent) == 0

    def test_invalid_value_error_is_a_value_error(self):
        assert issubclass(InvalidValueError, ValueError)

    def test_nul_characters_in_filters_are_rejected(self, storage):
        with pytest.raises(InvalidValueError):
            storage.list_all(RESOURCE, PARENT, filters=[Filter("title", "a\x00", C.EQ)])

    # --- update ---------------------------------------------------------------------------------------

    def test_update_replaces_the_whole_object(self, storage):
        storage.create(RESOURCE, PARENT, {"id": "u", "a": 1, "b": 2})
        updated = storage.update(RESOURCE, PARENT, "u", {"a": 10})
        assert {k: v for k, v in updated.items() if k != "last_modified"} == {"id": "u", "a": 10}
        assert storage.get(RESOURCE, PARENT, "u") == updated

    def test_update_of_a_missing_object_creates_it(self, storage):
        created = storage.update(RESOURCE, PARENT, "new", {"a": 1})
        assert storage.get(RESOURCE, PARENT, "new") == created

    def test_update_forces_the_id_from_the_argument(self, storage):
        updated = storage.update(RESOURCE, PARENT, "right", {"id": "wrong", "a": 1})
        assert updated["id"] == "right"
        with pytest.raises(ObjectNotFoundError):
            storage.get(RESOURCE, PARENT, "wrong")

    def test_update_over_a_tombstone_removes_it(self, storage):
        storage.create(RESOURCE, PARENT, {"id": "x"})
        storage.delete(RESOURCE, PARENT, "x")
        storage.update(RESOURCE, PARENT, "x", {"back": True})
        listed = storage.list_all(RESOURCE, PARENT, include_deleted=True)
        assert listed == [storage.get(RESOURCE, PARENT, "x")]

    # --- delete ---------------------------------------------------------------------------------------

    def test_delete_returns_a_tombstone(self, storage):
        created = storage.create(RESOURCE, PARENT, {"id": "d", "secret": "s"})
        tombstone = storage.delete(RESOURCE, PARENT, "d")
        assert set(tombstone) == {"id", "last_modified", "deleted"}
        assert tombstone["id"] == "d" and tombstone["deleted"] is True
        assert tombstone["last_modified"] > created["last_modified"]

    def test_delete_keeps_the_tombstone_for_synchronisation(self, storage):
        storage.create(RESOURCE, PARENT, {"id": "d", "secret": "s"})
        tombstone = storage.delete(RESOURCE, PARENT, "d")
        assert storage.list_all(RESOURCE, PARENT) == []
        assert storage.list_all(RESOURCE, PARENT, include_deleted=True) == [tombstone]

    def test_delete_without_tombstone_leaves_no_trace(self, storage):
        storage.create(RESOURCE, PARENT, {"id": "d"})
        storage.delete(RESOURCE, PARENT, "d", with_deleted=False)
        assert storage.list_all(RESOURCE, PARENT, include_deleted=True) == []

    def test_delete_honours_a_later_last_modified(self, storage):
        created = storage.create(RESOURCE, PARENT, {"id": "d"})
        wanted = created["last_modified"] + 10_000
        assert storage.delete(RESOURCE, PARENT, "d", last_modified=wanted)["last_modified"] == wanted
        assert storage.resource_timestamp(RESOURCE, PARENT) == wanted
