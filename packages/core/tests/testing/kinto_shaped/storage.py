"""A storage with Kinto 26.5.0's ``StorageBase`` methods and signatures only."""

from kinto.core.storage import (
    DEFAULT_DELETED_FIELD,
    DEFAULT_ID_FIELD,
    DEFAULT_MODIFIED_FIELD,
    StorageBase,
    memory,
)


class Storage(StorageBase):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._inner = memory.Storage()

    def initialize_schema(self, dry_run=False):
        pass

    def flush(self):
        self._inner.flush()

    def resource_timestamp(self, resource_name, parent_id):
        return self._inner.resource_timestamp(resource_name, parent_id)

    def all_resources_timestamps(self, resource_name):
        return self._inner.all_resources_timestamps(resource_name)

    def create(
        self,
        resource_name,
        parent_id,
        obj,
        id_generator=None,
        id_field=DEFAULT_ID_FIELD,
        modified_field=DEFAULT_MODIFIED_FIELD,
    ):
        return self._inner.create(
            resource_name, parent_id, obj, id_generator=id_generator, id_field=id_field, modified_field=modified_field
        )

    def get(
        self, resource_name, parent_id, object_id, id_field=DEFAULT_ID_FIELD, modified_field=DEFAULT_MODIFIED_FIELD
    ):
        return self._inner.get(resource_name, parent_id, object_id, id_field=id_field, modified_field=modified_field)

    def update(
        self, resource_name, parent_id, object_id, obj, id_field=DEFAULT_ID_FIELD, modified_field=DEFAULT_MODIFIED_FIELD
    ):
        return self._inner.update(
            resource_name, parent_id, object_id, obj, id_field=id_field, modified_field=modified_field
        )

    def delete(
        self,
        resource_name,
        parent_id,
        object_id,
        id_field=DEFAULT_ID_FIELD,
        with_deleted=True,
        modified_field=DEFAULT_MODIFIED_FIELD,
        deleted_field=DEFAULT_DELETED_FIELD,
        last_modified=None,
    ):
        return self._inner.delete(
            resource_name,
            parent_id,
            object_id,
            id_field=id_field,
            with_deleted=with_deleted,
            modified_field=modified_field,
            deleted_field=deleted_field,
            last_modified=last_modified,
        )

    def delete_all(
        self,
        resource_name,
        parent_id,
        filters=None,
        sorting=None,
        pagination_rules=None,
        limit=None,
        id_field=DEFAULT_ID_FIELD,
        with_deleted=True,
        modified_field=DEFAULT_MODIFIED_FIELD,
        deleted_field=DEFAULT_DELETED_FIELD,
    ):
        return self._inner.delete_all(
            resource_name,
            parent_id,
            filters=filters,
            sorting=sorting,
            pagination_rules=pagination_rules,
            limit=limit,
            id_field=id_field,
            with_deleted=with_deleted,
            modified_field=modified_field,
            deleted_field=deleted_field,
        )

    def purge_deleted(
        self,
        resource_name,
        parent_id,
        before=None,
        max_retained=None,
        id_field=DEFAULT_ID_FIELD,
        modified_field=DEFAULT_MODIFIED_FIELD,
        force_commit=False,
    ):
        return self._inner.purge_deleted(
            resource_name,
            parent_id,
            before=before,
            max_retained=max_retained,
            id_field=id_field,
            modified_field=modified_field,
        )

    def list_all(
        self,
        resource_name,
        parent_id,
        filters=None,
        sorting=None,
        pagination_rules=None,
        limit=None,
        include_deleted=False,
        id_field=DEFAULT_ID_FIELD,
        modified_field=DEFAULT_MODIFIED_FIELD,
        deleted_field=DEFAULT_DELETED_FIELD,
    ):
        return self._inner.list_all(
            resource_name,
            parent_id,
            filters=filters,
            sorting=sorting,
            pagination_rules=pagination_rules,
            limit=limit,
            include_deleted=include_deleted,
            id_field=id_field,
            modified_field=modified_field,
            deleted_field=deleted_field,
        )

    def count_all(
        self,
        resource_name,
        parent_id,
        filters=None,
        include_deleted=False,
        id_field=DEFAULT_ID_FIELD,
        modified_field=DEFAULT_MODIFIED_FIELD,
        deleted_field=DEFAULT_DELETED_FIELD,
    ):
        return self._inner.count_all(
            resource_name,
            parent_id,
            filters=filters,
            include_deleted=include_deleted,
            id_field=id_field,
            modified_field=modified_field,
            deleted_field=deleted_field,
        )

    def trim_objects(
        self,
        resource_name,
        parent_id,
        filters,
        max_objects,
        id_field=DEFAULT_ID_FIELD,
        modified_field=DEFAULT_MODIFIED_FIELD,
    ):
        return self._inner.trim_objects(
            resource_name, parent_id, filters, max_objects, id_field=id_field, modified_field=modified_field
        )


def load_from_config(config):
    return Storage()
