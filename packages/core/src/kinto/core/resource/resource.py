"""``Resource`` and its variants: the HTTP endpoints of one kind of object.

A resource class serves two routes, the plural endpoint (``/articles``) and the
object endpoint (``/articles/{id}``). An instance is built per request as
``cls(request, context=...)``; its ``model`` gives storage access scoped to the
parent id of the request (``get_parent_id``).

Three variants:

* ``Resource``: objects shared by every caller the settings allow
  (``kinto.<name>_<permission>_principals``; ``default_principals`` otherwise);
* ``UserResource``: objects private to their user (the parent id is the user id);
* ``ShareableResource``: objects carry permissions (``read``, ``write``, custom
  ones), stored in the permission backend and inherited along
  ``permission_inheritance``.

Writes run inside the request's transaction: the collection is locked
(``storage.lock_for_write``) before the current object is read, so a
precondition checked is the version overwritten.
"""

from __future__ import annotations

import copy
import re
import time
from typing import Any, ClassVar
from urllib.parse import urlencode

import jsonpatch
from pyramid import httpexceptions
from pyramid.authorization import Authenticated

from kinto.core import errors, jsonbody
from kinto.core.errors import ERRORS, http_error
from kinto.core.events import ACTIONS, notify_resource_event, notify_resource_read, reads_are_heard
from kinto.core.resource import querystring as qs
from kinto.core.resource.context import SELF
from kinto.core.resource.model import Model, ShareableModel, call_model
from kinto.core.resource.schema import ValidationFailure, validate_data
from kinto.core.secrets import PAGINATION_TOKENS, derived_key
from kinto.core.settings import principals_of
from kinto.core.storage import (
    COMPARISON,
    Filter,
    InvalidValueError,
    ObjectNotFoundError,
    ReadonlyError,
    Sort,
    UnicityError,
)
from kinto.core.storage.generators import UUID4, Generator

__all__ = ["Resource", "ShareableResource", "UserResource"]

_ETAG = re.compile(r'^"([0-9]+)"$')
_MERGE_TYPES = ("application/json", "application/merge-patch+json")
_JSON_PATCH = "application/json-patch+json"
_PERMISSION_PATH = re.compile(r"^/permissions/([^/]+)(?:/(.+))?$")
#: Where Kinto documented ``_before`` replacing ``_to`` (the URL its ``Alert`` header gives).
_TO_DEPRECATION_URL = "https://kinto.readthedocs.io/en/2.4.0/api/resource.html#list-of-available-url-parameters"


# --- helpers ------------------------------------------------------------------------------------


def _invalid(location: str, name: str | None, description: str, errno: int = ERRORS.INVALID_PARAMETERS) -> Exception:
    message = f"{name} in {location}: {description}" if name else description
    return http_error(
        httpexceptions.HTTPBadRequest(),
        errno=errno,
        message=message,
        details=[{"location": location, "name": name, "description": description}],
    )


def _parse_etags(request: Any, header: str) -> list[int] | str | None:
    """``*``, a list of timestamps, or None when absent; malformed values are a 400."""
    raw = request.headers.get(header)
    if raw is None:
        return None
    raw = raw.strip()
    if raw == "*":
        return "*"
    values = []
    for item in raw.split(","):
        match = _ETAG.match(item.strip())
        if match is None:
            raise _invalid("header", header, 'Invalid value: expected "*" or a quoted timestamp like "1234"')
        values.append(int(match.group(1)))
    return values


#: The latest timestamp a client may give: 9999-12-31T23:59:59.999Z (HTTP dates and 64-bit columns hold it).
MAX_CLIENT_TIMESTAMP = 253402300799999


def _client_timestamp(value: Any) -> int | None:
    """A ``last_modified`` sent by a client: kept if an integer (Kinto drops anything else), 400 if out of range."""
    if not isinstance(value, int) or isinstance(value, bool):
        return None
    if not 0 <= value <= MAX_CLIENT_TIMESTAMP:
        raise _invalid("body", "data.last_modified", f"Should be a timestamp between 0 and {MAX_CLIENT_TIMESTAMP}",
                       ERRORS.INVALID_PARAMETERS)
    return value


_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _http_date(timestamp_ms: int) -> str:
    """RFC 7231 IMF-fixdate of a millisecond timestamp (what ``formatdate(usegmt=True)`` writes, 4x faster)."""
    t = time.gmtime(timestamp_ms // 1000)
    return (
        f"{_WEEKDAYS[t.tm_wday]}, {t.tm_mday:02d} {_MONTHS[t.tm_mon - 1]} {t.tm_year:04d} "
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} GMT"
    )


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396 JSON merge patch: objects merge recursively, ``null`` removes a key."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


class Resource:
    """Endpoints of one kind of object. See the module docstring for the variants."""

    #: Set by ``register()``.
    name: ClassVar[str] = ""
    plural_path: ClassVar[str] = ""
    object_path: ClassVar[str] = ""

    #: JSON Schema (dict), a ``ResourceSchema`` subclass, or a colander schema; None accepts any object.
    schema: ClassVar[Any] = None
    #: Fields clients cannot set or change (``id`` and ``last_modified`` are handled by the framework).
    readonly_fields: ClassVar[tuple[str, ...]] = ()
    default_model: ClassVar[type[Model]] = Model
    #: A ``Generator`` instance or class; None uses the ``id_generator`` setting (UUID4 by default).
    id_generator: ClassVar[Any] = None
    permissions: ClassVar[tuple[str, ...]] = ("read", "write")
    #: Principals granted each permission when no ``<name>_<permission>_principals`` setting exists.
    default_principals: ClassVar[dict[str, tuple[str, ...]]] = {
        "read": (Authenticated,),
        "write": (Authenticated,),
        "create": (Authenticated,),
    }
    permission_inheritance: ClassVar[dict[str, dict[str, list[str]]]] = {}
    #: Resources whose objects carry their own permissions in request and response bodies.
    shareable: ClassVar[bool] = False

    def __init__(self, request: Any, context: Any = None, **kwargs: Any) -> None:
        self.request = request
        self.context = context
        registry = request.registry
        self.settings = registry.settings
        self.model = self.default_model(
            storage=registry.storage,
            permission=getattr(registry, "permission", None),
            id_generator=self._generator(),
            resource_name=self.name,
            parent_id=self.get_parent_id(request),
            current_principal=request.prefixed_userid,
            prefixed_principals=request.prefixed_principals,
            explicit_permissions=bool(self.settings.get("explicit_permissions", True)),
        )
        self.model.get_permission_object_id = self.permission_object_id
        acls = getattr(context, "acls", None)
        if acls is not None and hasattr(self.model, "permissions_cache"):
            self.model.permissions_cache = acls

    # --- class-level hooks ---------------------------------------------------------------------

    @classmethod
    def _generator(cls) -> Generator:
        generator = cls.id_generator
        if isinstance(generator, type):
            generator = generator()
            cls.id_generator = generator
        return generator or _DEFAULT_GENERATOR

    @classmethod
    def valid_id(cls, settings: dict[str, Any], object_id: str) -> bool:
        """Whether a client may name an object ``object_id``: the generator's pattern, and at most
        ``id_max_length`` characters (what every backend can index)."""
        return len(object_id) <= int(settings["id_max_length"]) and cls._generator().match(object_id) is not None

    @classmethod
    def object_uri(cls, request: Any, matchdict: dict[str, Any]) -> str:
        """The object's URI without the version prefix, e.g. ``/articles/a1`` (the permission id)."""
        return cls.object_path.format_map(matchdict)

    @classmethod
    def plural_uri(cls, matchdict: dict[str, Any]) -> str:
        return cls.plural_path.format_map(matchdict)

    @classmethod
    def permission_parents(cls, matchdict: dict[str, Any]) -> dict[str, str]:
        """URIs of the object's ancestors whose permissions may be inherited, by resource name."""
        return {}

    @classmethod
    def allowed_principals(cls, context: Any, permission: str) -> set[str]:
        """Principals granted ``permission`` on every object: the setting, else ``default_principals``.

        A permission inherited from parents (a collection's ``record:create``) gets no blanket
        default unless the class itself declares one.
        """
        settings = context.request.registry.settings
        key = f"{cls.name}_{permission}_principals"
        configured = settings.get(key, settings.get("kinto." + key))
        if configured is not None:
            return set(principals_of(configured))
        if cls.permission_inheritance.get(permission) and "default_principals" not in cls.__dict__:
            return set()
        return set(cls.default_principals.get(permission, ()))

    @classmethod
    def check_permission(cls, context: Any, principals: list[str], permission: str) -> bool:
        return bool(set(principals) & cls.allowed_principals(context, permission))

    def get_parent_id(self, request: Any) -> str:
        """The storage parent id of the request's objects ("" by default)."""
        return ""

    def permission_object_id(self, object_id: str) -> str:
        matchdict = dict(self.request.matchdict or {})
        matchdict["id"] = object_id
        return self.object_uri(self.request, matchdict)

    def process_object(self, new: dict[str, Any], old: dict[str, Any] | None = None) -> dict[str, Any]:
        """Hook called on every write before validation: return the object to store."""
        return new

    # --- request helpers -----------------------------------------------------------------------

    @property
    def id_field(self) -> str:
        return self.model.id_field

    @property
    def modified_field(self) -> str:
        return self.model.modified_field

    def _setting(self, suffix: str, default: Any = None) -> Any:
        key = f"{self.name}_{suffix}"
        return self.settings.get(key, self.settings.get("kinto." + key, default))

    def _object_id(self) -> str:
        object_id = self.request.matchdict["id"]
        if not self.valid_id(self.settings, object_id):
            raise _invalid("path", "id", "Invalid object id")
        return object_id

    def _params(self) -> Any:
        return errors.request_GET(self.request)

    def _check_accept(self) -> None:
        accept = self.request.headers.get("Accept")
        if not accept or "json" in accept or "*/*" in accept:
            return
        if not self.request.accept.acceptable_offers(["application/json"]):
            raise http_error(
                httpexceptions.HTTPNotAcceptable(),
                message="Only application/json responses are available",
                details=[{"location": "header", "name": "Accept",
                          "description": "Accept should allow one of ['application/json']"}],
            )

    def _body(self, content_types: tuple[str, ...] = ("application/json",),
              nullable_permissions: bool = False) -> dict[str, Any]:
        """The JSON body, checked; ``nullable_permissions``: a permission may be ``null`` (PATCH)."""
        request = self.request
        body = self._body_given_by_view()
        if body is None:
            if not request.body:
                return {}
            content_type = (request.content_type or "application/json").lower()
            if content_type not in content_types:
                raise http_error(
                    httpexceptions.HTTPUnsupportedMediaType(),
                    message=f"Content-Type should be one of {', '.join(content_types)}",
                    details=[{"location": "header", "name": "Content-Type",
                              "description": f"Content-Type should be one of {list(content_types)}"}],
                )
            body = request.json_body
            if content_type == _JSON_PATCH:
                if not isinstance(body, list):
                    raise _invalid("body", None, "A JSON Patch is a list of operations", ERRORS.INVALID_PARAMETERS)
                return {"patch": body}
        if not isinstance(body, dict):
            raise _invalid("body", None, "The body must be a JSON object", ERRORS.INVALID_PARAMETERS)
        if "data" in body and not isinstance(body["data"], dict):
            raise _invalid("body", "data", "Should be an object", ERRORS.INVALID_PARAMETERS)
        if "permissions" in body:
            body["permissions"] = self._permissions_from(body["permissions"], nullable_permissions)
        return body

    def _body_given_by_view(self) -> dict[str, Any] | None:
        """The body a plugin view hands to a resource method, as Kinto's API has it.

        A view that calls ``resource.put()`` or ``resource.patch()`` itself (kinto-attachment
        updating a record after an upload) puts the JSON body in ``request.validated["body"]``;
        the request's own body is then something else (a multipart upload). It gets the same
        checks as a body sent as JSON.
        """
        validated = getattr(self.request, "validated", None)
        given = validated.get("body") if isinstance(validated, dict) else None
        return dict(given) if isinstance(given, dict) else None

    def _permissions_from(self, permissions: Any, nullable: bool = False) -> dict[str, Any]:
        if not self.shareable:
            raise _invalid("body", "permissions", "This resource has no object permissions",
                           ERRORS.INVALID_PARAMETERS)
        if not isinstance(permissions, dict):
            raise _invalid("body", "permissions", "Should be an object", ERRORS.INVALID_PARAMETERS)
        cleaned = {}
        for permission, principals in permissions.items():
            if permission not in self.permissions:
                raise _invalid("body", f"permissions.{permission}", f"Unknown permission {permission!r}",
                               ERRORS.INVALID_PARAMETERS)
            if principals is None and nullable:
                cleaned[permission] = None
                continue
            if not isinstance(principals, list) or not all(isinstance(p, str) and p for p in principals):
                raise _invalid("body", f"permissions.{permission}", "Should be a list of principals",
                               ERRORS.INVALID_PARAMETERS)
            if not all(qs.is_valid_text(principal) for principal in principals):
                raise _invalid("body", f"permissions.{permission}", "Invalid character (NUL or lone surrogate)",
                               ERRORS.INVALID_PARAMETERS)
            cleaned[permission] = sorted(set(principals))
        return cleaned

    def _validate(self, new: dict[str, Any], old: dict[str, Any] | None) -> dict[str, Any]:
        """Readonly fields, the ``process_object`` hook, then the schema."""
        for field in self.readonly_fields:
            if field in (self.id_field, self.modified_field):
                continue
            if old is None and field in new:
                raise _invalid("body", field, "Cannot be set (read-only field)", ERRORS.INVALID_PARAMETERS)
            if old is not None and new.get(field) != old.get(field):
                raise _invalid("body", field, "Cannot be modified (read-only field)", ERRORS.INVALID_PARAMETERS)
        new = self.process_object(new, old=old)
        if self.schema is not None:
            reserved = (self.id_field, self.modified_field, self.model.deleted_field, *self.readonly_fields)
            data = {key: value for key, value in new.items() if key not in reserved}
            try:
                validated = validate_data(self.schema, data)
            except ValidationFailure as failure:
                name = f"data.{failure.field}" if failure.field else "data"
                raise _invalid("body", name, failure.description, ERRORS.INVALID_PARAMETERS) from None
            new = {**validated, **{key: new[key] for key in reserved if key in new}}
        if self.modified_field in new:
            requested = _client_timestamp(new.pop(self.modified_field))
            if requested is not None:
                new[self.modified_field] = requested
        return new

    def _timestamp(self) -> int:
        try:
            return self.model.timestamp()
        except ReadonlyError:
            return 0

    def _precondition(self, current: int | None, exists: bool) -> None:
        """If-Match / If-None-Match against ``current`` (object or collection timestamp)."""
        if_match = _parse_etags(self.request, "If-Match")
        if_none_match = _parse_etags(self.request, "If-None-Match")
        if if_match is not None:
            ok = exists if if_match == "*" else (exists and current in if_match)
            if not ok:
                self._raise_412(exists, current)
        if if_none_match is not None:
            matches = exists if if_none_match == "*" else (exists and current in if_none_match)
            if matches:
                if self.request.method in ("GET", "HEAD"):
                    response = httpexceptions.HTTPNotModified()
                    self._set_etag(response, current)
                    self.cache_headers(response)
                    raise response
                self._raise_412(exists, current)

    def _raise_412(self, exists: bool, current: int | None) -> None:
        details = None
        if exists and getattr(self, "_current", None) is not None:
            details = {"existing": self.present(self._current)}
        error = http_error(
            httpexceptions.HTTPPreconditionFailed(),
            errno=ERRORS.MODIFIED_MEANWHILE,
            message="Resource was modified meanwhile" if exists else "Resource does not exist",
            details=details,
        )
        self._set_etag(error, current)  # the version to retry against
        raise error

    def _set_etag(self, response: Any, timestamp: int | None) -> None:
        if timestamp is None:
            return
        response.headers["ETag"] = f'"{timestamp}"'
        response.headers["Last-Modified"] = _http_date(timestamp)

    def cache_headers(self, response: Any) -> None:
        """Hook: the cache headers of a read.

        Only anonymous reads may be cached (``<name>_cache_expires_seconds``):
        what an identified user was allowed to read must never be kept by a
        shared cache, so every other read says ``no-cache, no-store``, as Kinto's.
        """
        seconds = self._setting("cache_expires_seconds")
        if self.request.prefixed_userid is None and seconds is not None and seconds != "":
            response.cache_expires(int(seconds))
            return
        response.cache_control.no_cache = True
        response.cache_control.no_store = True

    def present(self, obj: dict[str, Any]) -> dict[str, Any]:
        """The object as clients see it (without the permissions field)."""
        field = getattr(self.model, "permissions_field", None)
        if field and field in obj:
            return {key: value for key, value in obj.items() if key != field}
        return obj

    def _object_body(self, obj: dict[str, Any]) -> dict[str, Any]:
        body: dict[str, Any] = {"data": self.present(obj)}
        if self.shareable:
            body["permissions"] = obj.get(self.model.permissions_field, {})
        return body

    def _event_data(self, object_id: str | None = None) -> dict[str, Any]:
        data = {key: value for key, value in (self.request.matchdict or {}).items() if key != "id"}
        if object_id is not None:
            data[f"{self.name}_id"] = object_id
            data["uri"] = self.permission_object_id(object_id)
        else:
            data["uri"] = self.plural_uri(self.request.matchdict or {})
        return data

    def _notify(self, action: ACTIONS, new: Any, old: Any = None, object_id: str | None = None) -> None:
        timestamp = self._timestamp_of(new)
        notify_resource_event(
            self.request, self.model.parent_id, timestamp, new, action, old=old, resource_name=self.name,
            resource_data=self._event_data(object_id),
        )

    def _timestamp_of(self, data: Any) -> int:
        objects = data if isinstance(data, list) else [data]
        stamps = [obj.get(self.modified_field, 0) for obj in objects if isinstance(obj, dict)]
        return max(stamps) if stamps else self._timestamp()

    def _read_event(self, objects: list[dict[str, Any]], object_id: str | None = None) -> None:
        if reads_are_heard(self.request.registry):
            notify_resource_read(self.request, objects, resource_name=self.name,
                                 resource_data=self._event_data(object_id), parent_id=self.model.parent_id,
                                 timestamp=self._timestamp())

    def _lock(self) -> None:
        self.model.storage.lock_for_write(self.name, self.model.parent_id)

    def _get_or_none(self, object_id: str) -> dict[str, Any] | None:
        try:
            return call_model(self.model, "get", object_id)
        except ObjectNotFoundError:
            return None

    def _not_found(self) -> Exception:
        # errno 110 (invalid resource id), not 111: what Kinto answers for a missing object, and what
        # its clients test; 111 stays for unknown URLs and missing parents.
        return http_error(httpexceptions.HTTPNotFound(), errno=ERRORS.INVALID_RESOURCE_ID, message="Object not found",
                          details={"id": self.request.matchdict.get("id"), "resource_name": self.name})

    # --- querystring ---------------------------------------------------------------------------

    def _query(self, for_delete: bool = False) -> dict[str, Any]:
        params = self._params()
        try:
            filters, include_deleted = qs.parse_filters(params, self.id_field, self.modified_field)
            sorting = qs.parse_sorting(params.get("_sort"), self.modified_field)
            fields = qs.parse_fields(params.get("_fields"))
            maximum = self._page_size()
            limit = qs.parse_limit(params.get("_limit"), maximum)
        except qs.InvalidQuery as invalid:
            raise _invalid("querystring", invalid.name, invalid.description) from None
        if "_to" in params:
            errors.send_alert(self.request, "_to is deprecated: use _before instead", url=_TO_DEPRECATION_URL)
        if for_delete:
            include_deleted = False
        if not any(sort.field == self.id_field for sort in sorting):
            sorting.append(Sort(self.id_field, sorting[-1].direction if sorting else -1))
        # Tokens are bound to the client's query, not to what it may read: objects shared
        # between two pages must not invalidate the walk (the filter below applies anyway).
        digest = qs.query_digest(filters, sorting)
        shared = getattr(self.context, "shared_ids", None)
        if shared is not None:
            filters.append(Filter(self.id_field, list(shared), COMPARISON.IN))
        rules = None
        token = params.get("_token")
        if token:
            try:
                last = qs.decode_token(self._token_secret(), token, digest, len(sorting))
            except qs.InvalidQuery as invalid:
                raise _invalid("querystring", invalid.name, invalid.description) from None
            rules = qs.pagination_rules(sorting, last)
        return {"filters": filters, "sorting": sorting, "fields": fields, "limit": limit, "rules": rules,
                "include_deleted": include_deleted, "digest": digest}

    def _page_size(self) -> int:
        paginate_by = self.settings.get("paginate_by")
        max_fetch = int(self.settings.get("storage_max_fetch_size") or 10000)
        if paginate_by:
            return min(int(paginate_by), max_fetch)
        return max_fetch

    def _token_secret(self) -> bytes:
        # Never the user-id key: GET /v1/ answers its HMAC of any text (see kinto.core.secrets).
        return derived_key(self.settings, PAGINATION_TOKENS)

    def _next_page(self, query: dict[str, Any], last: dict[str, Any]) -> str:
        values = [qs.field_value(last, sort.field) for sort in query["sorting"]]
        ttl = int(self.settings.get("pagination_token_validity_seconds") or 600)
        token = qs.encode_token(self._token_secret(), values, query["digest"], ttl)
        params = [(key, value) for key, value in self._params().items() if key != "_token"]
        params.append(("_token", token))
        if "_limit" not in self._params() and query["limit"]:
            params.append(("_limit", str(query["limit"])))
        request = self.request
        root = request.parent if getattr(request, "parent", None) is not None else request
        return f"{root.host_url}{request.path}?{urlencode(params)}"

    def _fetch(self, query: dict[str, Any], include_deleted: bool) -> tuple[list[dict[str, Any]], bool]:
        limit = query["limit"]
        try:
            objects = call_model(
                self.model, "list", filters=query["filters"], sorting=query["sorting"],
                pagination_rules=query["rules"], limit=limit + 1 if limit else None,
                include_deleted=include_deleted,
            )
        except InvalidValueError as error:
            raise _invalid("querystring", None, str(error)) from None
        has_more = bool(limit) and len(objects) > limit
        return (objects[:limit] if has_more else objects), has_more

    # --- plural endpoints ------------------------------------------------------------------------

    def plural_head(self) -> Any:
        return self.plural_get(head=True)

    def plural_get(self, head: bool = False) -> Any:
        self._check_accept()
        query = self._query()
        timestamp = self._timestamp()
        response = self.request.response
        self._precondition(timestamp, exists=True)
        self._set_etag(response, timestamp)
        self.cache_headers(response)
        if head:
            try:
                total = self.model.count_objects(filters=query["filters"])
            except InvalidValueError as error:
                raise _invalid("querystring", None, str(error)) from None
            response.headers["Total-Objects"] = response.headers["Total-Records"] = str(total)
        objects, has_more = self._fetch(query, query["include_deleted"])
        if has_more:
            response.headers["Next-Page"] = self._next_page(query, objects[-1])
        objects = [self.present(obj) for obj in objects]
        self._read_event(objects)
        if query["fields"] is not None:
            always = (self.id_field, self.modified_field, self.model.deleted_field)
            objects = [qs.keep_fields(obj, query["fields"], always) for obj in objects]
        return {"data": objects}

    def plural_post(self) -> Any:
        self._check_accept()
        body = self._body()
        data = dict(body.get("data") or {})
        self._lock()
        object_id = data.get(self.id_field)
        existing = None
        if object_id is not None:
            if not isinstance(object_id, str) or not self.valid_id(self.settings, object_id):
                raise _invalid("body", "data.id", "Invalid object id")
            existing = self._get_or_none(object_id)
        # As Kinto: preconditions apply to the posted object (``If-None-Match: *`` = create only),
        # checked once the caller is known to may read it (a 412 shows the existing object).
        answer = self._existing_on_post(existing) if existing is not None else None
        self._current = existing
        self._precondition(existing[self.modified_field] if existing else None, exists=existing is not None)
        if answer is not None:
            return answer
        if getattr(self.context, "allowed_to_read_only", False):
            # Let in to read an object that was deleted since: creating needs ``create``.
            raise http_error(httpexceptions.HTTPForbidden(), errno=ERRORS.FORBIDDEN,
                             message="This user cannot access this resource.")
        new = self._validate(data, None)
        if self.shareable:
            new[self.model.permissions_field] = body.get("permissions", {})
        try:
            created = call_model(self.model, "create", new)
        except UnicityError as conflict:
            if conflict.existing is not None:
                return self._existing_on_post(self._get_or_none(conflict.existing[self.id_field]) or conflict.existing)
            raise http_error(httpexceptions.HTTPConflict(), message="Object exists already") from None
        except InvalidValueError as error:
            raise _invalid("body", "data", str(error), ERRORS.INVALID_PARAMETERS) from None
        self.request.response.status_code = 201
        self._set_etag(self.request.response, created[self.modified_field])
        self._notify(ACTIONS.CREATE, self.present(created), object_id=created[self.id_field])
        return self._object_body(created)

    def _existing_on_post(self, existing: dict[str, Any]) -> Any:
        """POST of an id that exists reads it: what a GET shows the caller, or the 403 of a read."""
        uri = self.permission_object_id(existing[self.id_field])
        principals = self.request.prefixed_principals
        if self.context is not None and not self.context.has_permission(principals, "read", uri) \
                and self.shareable:
            raise http_error(httpexceptions.HTTPForbidden(), errno=ERRORS.FORBIDDEN,
                             message="This user cannot access this resource.")
        self._set_etag(self.request.response, existing[self.modified_field])
        return self._shown_body(existing)

    def plural_delete(self) -> Any:
        self._check_accept()
        query = self._query(for_delete=True)
        self._lock()
        self._precondition(self._timestamp(), exists=True)
        objects, has_more = self._fetch(query, include_deleted=False)
        if has_more:
            self.request.response.headers["Next-Page"] = self._next_page(query, objects[-1])
        if not objects:
            return {"data": []}
        ids = [obj[self.id_field] for obj in objects]
        tombstones = call_model(self.model, "delete_many", filters=[Filter(self.id_field, ids, COMPARISON.IN)])
        by_id = {obj[self.id_field]: obj for obj in tombstones}
        ordered = [by_id[i] for i in ids if i in by_id]
        old = [self.present(obj) for obj in objects if obj[self.id_field] in by_id]
        self._notify(ACTIONS.DELETE, ordered, old=old)
        if query["fields"] is not None:
            always = (self.id_field, self.modified_field, self.model.deleted_field)
            ordered = [qs.keep_fields(obj, query["fields"], always) for obj in ordered]
        return {"data": ordered}

    # --- object endpoints ------------------------------------------------------------------------

    def head(self) -> Any:
        return self.get()

    def get(self) -> Any:
        self._check_accept()
        object_id = self._object_id()
        obj = self._get_or_none(object_id)
        self._current = obj
        if obj is None:
            raise self._not_found()  # whatever the preconditions, as Kinto
        timestamp = obj[self.modified_field]
        self._precondition(timestamp, exists=True)
        response = self.request.response
        self._set_etag(response, timestamp)
        self.cache_headers(response)
        try:
            fields = qs.parse_fields(self._params().get("_fields"))
        except qs.InvalidQuery as invalid:
            raise _invalid("querystring", invalid.name, invalid.description) from None
        self._read_event([self.present(obj)], object_id)
        body = self._shown_body(obj)
        if fields is not None:
            body["data"] = qs.keep_fields(body["data"], fields, (self.id_field, self.modified_field))
        return body

    def _shown_body(self, obj: dict[str, Any]) -> dict[str, Any]:
        """The object as a read shows it to the caller: its ACL only to those who may write it
        (others get ``"permissions": {}``, as Kinto answers them)."""
        body = self._object_body(obj)
        if self.shareable and not self._may_write(obj[self.id_field]):
            body["permissions"] = {}
        return body

    def _may_write(self, object_id: str) -> bool:
        if self.context is None:
            return True
        return self.context.has_permission(self.request.prefixed_principals, "write",
                                           self.permission_object_id(object_id))

    def put(self) -> Any:
        self._check_accept()
        object_id = self._object_id()
        body = self._body()
        data = dict(body.get("data") or {})
        if self.id_field in data and data[self.id_field] != object_id:
            raise _invalid("body", "data.id", "Does not match the id in the URL")
        self._lock()
        existing = self._get_or_none(object_id)
        if existing is not None and getattr(self.context, "allowed_by_create", False):
            self._refuse_replacing(existing)
        self._current = existing
        self._precondition(existing[self.modified_field] if existing else None, exists=existing is not None)
        if "data" not in body and existing is not None:
            # As Kinto: a PUT of permissions alone keeps the data (kinto-http's setPermissions).
            data = {key: value for key, value in self.present(existing).items() if key != self.modified_field}
        data[self.id_field] = object_id
        if existing is not None:
            for field in self.readonly_fields:
                if field in existing and field not in data:
                    data[field] = existing[field]
        new = self._validate(data, existing)
        requested = _client_timestamp((body.get("data") or {}).get(self.modified_field))
        if requested is not None:
            new[self.modified_field] = requested
        if self.shareable:
            # Given permissions replace the whole ACL; none (or ``{}``, as Kinto) keep it.
            new[self.model.permissions_field] = body.get("permissions") or None
        try:
            if existing is None:
                stored = call_model(self.model, "create", new)
            else:
                stored = call_model(self.model, "update", new)
        except UnicityError:
            raise http_error(httpexceptions.HTTPConflict(), message="Object was created meanwhile") from None
        except InvalidValueError as error:
            raise _invalid("body", "data", str(error), ERRORS.INVALID_PARAMETERS) from None
        response = self.request.response
        response.status_code = 200 if existing is not None else 201
        self._set_etag(response, stored[self.modified_field])
        action = ACTIONS.UPDATE if existing is not None else ACTIONS.CREATE
        self._notify(action, self.present(stored), old=self.present(existing) if existing else None,
                     object_id=object_id)
        return self._object_body(stored)

    def _refuse_replacing(self, existing: dict[str, Any]) -> None:
        """A PUT let in to create finds the object there (created before, or meanwhile by a racer).

        With ``If-None-Match: *`` the client asked to create only: it lost, a 412, as Kinto answers
        whether or not the winner had committed when the permission was checked. Who may not read
        the object is not shown it (Kinto's 412 shows it to anyone). Otherwise: a 403.
        """
        if _parse_etags(self.request, "If-None-Match") != "*":
            raise http_error(httpexceptions.HTTPForbidden(), message="Not allowed to replace this object")
        if self._may_read(existing[self.id_field]):
            self._current = existing
            self._raise_412(True, existing[self.modified_field])
        raise http_error(httpexceptions.HTTPPreconditionFailed(), errno=ERRORS.MODIFIED_MEANWHILE,
                         message="Resource was modified meanwhile")

    def _may_read(self, object_id: str) -> bool:
        if self.context is None:
            return True
        return self.context.has_permission(self.request.prefixed_principals, "read",
                                           self.permission_object_id(object_id))

    def patch(self) -> Any:
        self._check_accept()
        # Every part of the request is checked before anything is written.
        behavior = (self.request.headers.get("Response-Behavior") or "full").lower()
        if behavior not in ("full", "light", "diff"):
            raise _invalid("header", "Response-Behavior", "Should be one of full, light, diff")
        object_id = self._object_id()
        body = self._body(content_types=(*_MERGE_TYPES, _JSON_PATCH), nullable_permissions=True)
        self._lock()
        existing = self._get_or_none(object_id)
        if existing is None:
            raise self._not_found()  # before the preconditions, as Kinto: If-Match on a missing object is a 404
        self._current = existing
        self._precondition(existing[self.modified_field], exists=True)
        if not body.keys() & {"patch", "data", "permissions"}:
            # As Kinto: a PATCH that names nothing to change is a mistake, not a no-op.
            message = "Provide at least one of data or permissions"
            raise http_error(httpexceptions.HTTPBadRequest(), errno=ERRORS.INVALID_PARAMETERS, message=message,
                             details=[{"location": "body", "name": "data", "description": message}])
        current_permissions = existing.get(getattr(self.model, "permissions_field", ""), {}) if self.shareable \
            else {}
        present = self.present(existing)
        if "patch" in body:
            changes, permissions = self._apply_json_patch(present, current_permissions, body["patch"])
            applied = changes
        else:
            applied = body.get("data") or {}
            changes, permissions = self._merge_changes(present, current_permissions, applied, body)
        if changes.get(self.id_field, object_id) != object_id:
            raise _invalid("body", "data.id", "Cannot be modified")
        changes[self.id_field] = object_id
        requested_modified = _client_timestamp((body.get("data") or {}).get(self.modified_field)) \
            if "patch" not in body else None
        changes[self.modified_field] = present.get(self.modified_field)
        new = self._validate(changes, present)
        unchanged = new == present and (permissions is None or _same_permissions(permissions, current_permissions))
        if unchanged:
            stored = existing
        else:
            if requested_modified is not None:
                new[self.modified_field] = requested_modified
            else:
                new.pop(self.modified_field, None)
            if self.shareable:
                new[self.model.permissions_field] = permissions if permissions is not None else current_permissions
            try:
                stored = call_model(self.model, "update", new)
            except InvalidValueError as error:
                raise _invalid("body", "data", str(error), ERRORS.INVALID_PARAMETERS) from None
            self._notify(ACTIONS.UPDATE, self.present(stored), old=present, object_id=object_id)
        response = self.request.response
        self._set_etag(response, stored[self.modified_field])
        if behavior == "full":
            return self._object_body(stored)
        # As Kinto: ``light`` shows the fields the request changed, ``diff`` those of them that
        # differ from what was sent (the server altered them); no permissions either way.
        shown = self.present(stored)
        changed = [key for key in applied if key in shown and present.get(key) != shown[key]]
        if behavior == "diff":
            changed = [key for key in changed if applied[key] != shown[key]]
        return {"data": {key: shown[key] for key in changed}}

    def _merge_changes(self, present: dict[str, Any], current_permissions: dict[str, list[str]],
                       requested: dict[str, Any], body: dict[str, Any]
                       ) -> tuple[dict[str, Any], dict[str, list[str]] | None]:
        """The object and permissions a PATCH of ``data``/``permissions`` asks for.

        ``application/merge-patch+json`` is RFC 7396 (objects merge recursively, ``null`` removes);
        ``application/json`` is Kinto's shallow update: each top-level field sent replaces the
        stored one, ``null`` included (stored as such), and a ``null`` permission is ignored.
        """
        merge = (self.request.content_type or "").lower() == "application/merge-patch+json"
        changes = merge_patch(present, requested) if merge else {**present, **requested}
        if "permissions" not in body:
            return changes, None
        sent = body["permissions"]
        if merge:
            return changes, {**current_permissions, **{perm: principals or [] for perm, principals in sent.items()}}
        return changes, {**current_permissions, **{perm: p for perm, p in sent.items() if p is not None}}

    def _apply_json_patch(self, data: dict[str, Any], permissions: dict[str, list[str]],
                          operations: list[Any]) -> tuple[dict[str, Any], dict[str, list[str]] | None]:
        """RFC 6902 on ``{"data": ..., "permissions": {perm: {principal: true}}}``."""
        document = {"data": copy.deepcopy(data),
                    "permissions": {perm: {p: True for p in principals} for perm, principals in permissions.items()}}
        for perm in self.permissions if self.shareable else ():
            document["permissions"].setdefault(perm, {})
        touches_permissions = False
        for index, operation in enumerate(operations):
            if not isinstance(operation, dict) or not isinstance(operation.get("path"), str):
                raise _invalid("body", str(index), "Each operation needs an op and a path", ERRORS.INVALID_PARAMETERS)
            path = operation["path"]
            if path.startswith("/permissions"):
                if not self.shareable:
                    raise _invalid("body", path, "This resource has no object permissions",
                                   ERRORS.INVALID_PARAMETERS)
                match = _PERMISSION_PATH.match(path)
                if match is None or match.group(1) not in self.permissions:
                    raise _invalid("body", path, "Invalid permission path", ERRORS.INVALID_PARAMETERS)
                touches_permissions = True
                if operation.get("op") == "add" and match.group(2):
                    operation = {**operation, "value": True}
            elif not (path == "/data" or path.startswith("/data/")):
                raise _invalid("body", path, "Paths start with /data or /permissions", ERRORS.INVALID_PARAMETERS)
            operations[index] = operation
        try:
            patched = jsonpatch.JsonPatch(operations).apply(document)
        except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException, TypeError, ValueError) as error:
            raise _invalid("body", None, f"Invalid JSON Patch: {error}", ERRORS.INVALID_PARAMETERS) from None
        new_data = patched.get("data")
        if not isinstance(new_data, dict):
            raise _invalid("body", "data", "Should stay an object", ERRORS.INVALID_PARAMETERS)
        limit = jsonbody.max_depth(self.settings)
        if jsonbody.too_deep(new_data, limit):
            # Bodies obey the limit (and so do merge patches of them); operations that add under a
            # deep pointer would not, a request at a time.
            raise _invalid("body", "data", f"Nested deeper than {limit} levels (json_max_depth)",
                           ERRORS.INVALID_PARAMETERS)
        if not touches_permissions:
            return new_data, None
        new_permissions: dict[str, Any] = {}
        for perm, principals in (patched.get("permissions") or {}).items():
            new_permissions[perm] = sorted(principals) if isinstance(principals, dict) else principals
        # The same checks as permissions sent in a body (known names, principals without NUL...).
        return new_data, self._permissions_from(new_permissions)

    def delete(self) -> Any:
        self._check_accept()
        object_id = self._object_id()
        self._lock()
        existing = self._get_or_none(object_id)
        if existing is None:
            raise self._not_found()  # before the preconditions, as Kinto: If-Match on a missing object is a 404
        self._current = existing
        self._precondition(existing[self.modified_field], exists=True)
        tombstone = call_model(self.model, "delete", existing)
        self._set_etag(self.request.response, tombstone[self.modified_field])
        self._notify(ACTIONS.DELETE, tombstone, old=self.present(existing), object_id=object_id)
        return {"data": tombstone}

    # Kinto's former view names.
    collection_get = plural_get
    collection_post = plural_post
    collection_delete = plural_delete


def _same_permissions(a: dict[str, list[str]], b: dict[str, list[str]]) -> bool:
    def normal(permissions: dict[str, list[str]]) -> dict[str, set[str]]:
        return {perm: set(principals) for perm, principals in permissions.items() if principals}

    return normal(a) == normal(b)


_DEFAULT_GENERATOR: Generator = UUID4()


class UserResource(Resource):
    """Objects private to their user: the parent id is the caller's user id."""

    def get_parent_id(self, request: Any) -> str:
        userid = request.prefixed_userid
        if not userid:
            raise http_error(httpexceptions.HTTPUnauthorized(), errno=ERRORS.MISSING_AUTH_TOKEN,
                             message="Please authenticate yourself to use this endpoint")
        return userid

    @classmethod
    def check_permission(cls, context: Any, principals: list[str], permission: str) -> bool:
        return Authenticated in principals and super().check_permission(context, principals, permission)


class ShareableResource(Resource):
    """Objects carrying permissions, inherited along ``permission_inheritance``.

    A caller may read an object when it holds ``read`` or ``write`` on it (or
    what the inheritance grants); write needs ``write``; creating needs
    ``create`` from the settings or the inheritance (e.g. a parent's
    ``record:create``). Plural reads without list-wide ``read`` show the
    objects the caller may read one by one; with none of those, only a
    caller who may create gets the (empty) list, others a 401/403.
    """

    shareable = True
    default_model = ShareableModel
    default_principals: ClassVar[dict[str, tuple[str, ...]]] = {"create": (Authenticated,)}
    permission_inheritance: ClassVar[dict[str, dict[str, list[str]]]] = {
        "read": {SELF: ["read", "write"]},
        "write": {SELF: ["write"]},
        "create": {},
    }

    @classmethod
    def check_permission(cls, context: Any, principals: list[str], permission: str) -> bool:
        if set(principals) & cls.allowed_principals(context, permission):
            return True
        endpoint, method = context.endpoint, context.request.method
        if endpoint == "plural":
            if context.has_permission(principals, permission, None):
                return True
            if permission in ("read", "write"):
                # Objects shared one by one: the list is filtered down to them. A caller with
                # none of them, who may not create any either, is refused (401/403, as Kinto).
                context.shared_ids = context.accessible_ids(principals, permission)
                return bool(context.shared_ids) or cls._may_create(context, principals)
            if method == "POST":
                return cls._may_read_posted_object(context, principals)
            return False
        object_id = context.request.matchdict.get("id")
        if object_id is not None and not cls.valid_id(context.request.registry.settings, object_id):
            # Such ids never reach a backend (a NUL would upset PostgreSQL). As Kinto, the
            # permission comes first: who could not reach such an object gets a 401/403, not a 400.
            if not cls.allowed_without_object(context, principals, permission, context.parent_uris()):
                return False
            raise _invalid("path", "id", "Invalid object id")
        uri = context.object_uri()
        if context.has_permission(principals, permission, uri):
            return True
        if method == "PUT" and cls._may_create(context, principals):
            context.allowed_by_create = True
            return True
        if method != "PUT":  # creating where one may not: 403, as Kinto, even on a missing object
            cls.not_found_if_parent_readable(context, principals)
        return False

    @classmethod
    def allowed_without_object(cls, context: Any, principals: list[str], permission: str,
                               parents: dict[str, str]) -> bool:
        """The permission of a request whose object cannot exist (its id is invalid): what the
        settings and the ``parents`` grant, creating included for a ``PUT``."""
        if set(principals) & cls.allowed_principals(context, permission):
            return True
        if context.has_inherited_permission(principals, permission, parents):
            return True
        if context.endpoint == "object" and context.request.method == "PUT":
            return bool(set(principals) & cls.allowed_principals(context, "create")) \
                or context.has_inherited_permission(principals, "create", parents)
        return False

    @classmethod
    def not_found_if_parent_readable(cls, context: Any, principals: list[str]) -> None:
        """Hook: a caller who may read the parent learns that a missing object is missing (404, as Kinto)."""
        if not context.has_permission(principals, "read", None):
            return
        resource = cls(context.request, context=context)
        object_id = resource._object_id()  # an invalid id is a 400
        if resource._get_or_none(object_id) is None:
            raise resource._not_found()

    @classmethod
    def _may_read_posted_object(cls, context: Any, principals: list[str]) -> bool:
        """As Kinto: a POST naming an existing object reads it, so ``read`` on it suffices."""
        request = context.request
        try:
            body = request.json_body if request.body else None
        except httpexceptions.HTTPException:
            return False  # refused as any caller who may not create; the body is not looked at further
        data = body.get("data") if isinstance(body, dict) else None
        object_id = data.get("id") if isinstance(data, dict) else None
        if not isinstance(object_id, str) or not cls.valid_id(request.registry.settings, object_id):
            return False
        if not context.has_permission(principals, "read", context.object_uri(object_id)):
            return False
        if cls(request, context=context)._get_or_none(object_id) is None:
            return False
        context.allowed_to_read_only = True
        return True

    @classmethod
    def _may_create(cls, context: Any, principals: list[str]) -> bool:
        if set(principals) & cls.allowed_principals(context, "create"):
            return True
        return context.has_permission(principals, "create", None)
