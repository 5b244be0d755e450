"""A permission backend with Kinto 26.5.0's ``PermissionBase`` methods and signatures only."""

from kinto.core.permission import PermissionBase, memory


class Permission(PermissionBase):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._inner = memory.Permission()

    def initialize_schema(self, dry_run=False):
        pass

    def flush(self):
        self._inner.flush()

    def add_user_principal(self, user_id, principal):
        self._inner.add_user_principal(user_id, principal)

    def remove_user_principal(self, user_id, principal):
        self._inner.remove_user_principal(user_id, principal)

    def remove_principal(self, principal):
        self._inner.remove_principal(principal)

    def get_user_principals(self, user_id):
        return self._inner.get_user_principals(user_id)

    def add_principal_to_ace(self, object_id, permission, principal):
        self._inner.add_principal_to_ace(object_id, permission, principal)

    def remove_principal_from_ace(self, object_id, permission, principal):
        self._inner.remove_principal_from_ace(object_id, permission, principal)

    def get_object_permission_principals(self, object_id, permission):
        return self._inner.get_object_permission_principals(object_id, permission)

    def get_accessible_objects(self, principals, bound_permissions=None, with_children=True):
        return self._inner.get_accessible_objects(principals, bound_permissions, with_children=with_children)

    def get_authorized_principals(self, bound_permissions):
        return self._inner.get_authorized_principals(bound_permissions)

    def get_objects_permissions(self, objects_ids, permissions=None):
        return self._inner.get_objects_permissions(objects_ids, permissions)

    def replace_object_permissions(self, object_id, permissions):
        return self._inner.replace_object_permissions(object_id, permissions)

    def delete_object_permissions(self, *object_id_list):
        return self._inner.delete_object_permissions(*object_id_list)


def load_from_config(config):
    return Permission()
