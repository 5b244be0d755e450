"""``Resource``: the HTTP endpoints of one kind of object.

A resource class serves two routes, the plural endpoint (``/articles``) and the
object endpoint (``/articles/{id}``). An instance is built per request as
``cls(request, context=...)``; its ``model`` gives storage access scoped to the
parent id of the request (``get_parent_id``). Objects are shared by every caller
the settings allow (``kinto.<name>_<permission>_principals``;
``default_principals`` otherwise); ``variants.py`` has the resources whose
objects are private to their user (``UserResource``) or carry their own
permissions (``ShareableResource``).

A handler reads the request (``body.py``, ``querystring.py``), computes what
changes (``patching.py`` for a PATCH), checks the preconditions
(``preconditions.py``), stores, then shapes the response. Writes run inside the
request's transaction, and a precondition checked is always the version
overwritten: either storage writes conditionally (``writes_conditionally``) and
the write of an object is made to expect the version read, without a lock (if
it changed meanwhile, the handler runs again as below); or the collection is
locked (``storage.lock_for_write``) before the current object is read (see
``_write_object``). A POST without an id reads nothing first: its create locks.

This module is over 500 lines on purpose: it is the one class a resource author
subclasses, and keeps its hooks and its eight handlers together, each readable
top to bottom; what they share without needing the class lives in the modules
named above.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar
from urllib.parse import urlencode

from pyramid import httpexceptions
from pyramid.authorization import Authenticated

from kinto.core import errors
from kinto.core.errors import ERRORS, http_error
from kinto.core.events import ACTIONS, notify_resource_event, notify_resource_read, reads_are_heard
from kinto.core.resource import patching, preconditions
from kinto.core.resource import querystring as qs
from kinto.core.resource.body import (
    JSON_PATCH,
    MERGE_TYPES,
    check_accept,
    checked_body,
    checked_permissions,
    read_body,
)
from kinto.core.resource.context import ResourceContext
from kinto.core.resource.model import Model, call_model, writes_conditionally
from kinto.core.resource.preconditions import Outcome, client_timestamp, set_etag
from kinto.core.resource.schema import ValidationFailure, validate_data
from kinto.core.secrets import PAGINATION_TOKENS, derived_key
from kinto.core.settings import principals_of
from kinto.core.storage import (
    COMPARISON,
    Filter,
    InvalidValueError,
    ObjectChangedError,
    ObjectKey,
    ObjectNotFoundError,
    PageKey,
    ReadonlyError,
    UnicityError,
)
from kinto.core.storage.generators import UUID4, Generator

__all__ = ["Resource"]

#: Where Kinto documented ``_before`` replacing ``_to`` (the URL its ``Alert`` header gives).
_TO_DEPRECATION_URL = "https://kinto.readthedocs.io/en/2.4.0/api/resource.html#list-of-available-url-parameters"
_FORBIDDEN = "This user cannot access this resource."


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
        #: The route's context (``has_permission``); None for a resource a plugin builds to call it.
        self.context = context
        #: What the permission check found, when the context is the core's own.
        self.route_context = context if isinstance(context, ResourceContext) else None
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
            explicit_permissions=self.settings["explicit_permissions"],
            permission_object_id=self.permission_object_id,
            permissions_cache=self.route_context.acls if self.route_context is not None else None,
            prefetched_objects=self.route_context.objects if self.route_context is not None else None,
            prefetched_pages=self.route_context.pages if self.route_context is not None else None,
            prefetched_timestamps=self.route_context.timestamps if self.route_context is not None else None,
        )

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
        return len(object_id) <= settings["id_max_length"] and cls._generator().match(object_id) is not None

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
        configured = context.request.registry.settings.get(f"{cls.name}_{permission}_principals")
        if configured is not None:
            return set(principals_of(configured))
        if cls.permission_inheritance.get(permission) and "default_principals" not in cls.__dict__:
            return set()
        return set(cls.default_principals.get(permission, ()))

    @classmethod
    def objects_to_prefetch(cls, request: Any, endpoint: str) -> list[ObjectKey] | None:
        """Hook: the storage keys a request of this route will ``get`` (its object, its parent...),
        read with the ACLs ahead of the permission check (see ``ResourceContext.prefetch``). A
        write (any method but GET and HEAD) reads ahead an object of this resource only when
        storage writes conditionally (otherwise such keys are left out). None reads nothing
        ahead: the answer for an object whose id is invalid (such ids never reach a backend);
        otherwise no object by default."""
        object_id = (request.matchdict or {}).get("id")
        if endpoint == "object" and (object_id is None or not cls.valid_id(request.registry.settings, object_id)):
            return None
        return []

    @classmethod
    def page_to_prefetch(cls, request: Any) -> PageKey | None:
        """Hook: the arguments of the ``list_all`` a plural read of this route will make, read
        ahead with the ACLs (see ``ResourceContext.prefetch``); None (the default) reads none.

        The server's resources read none: with the page in the same pipeline as the ACLs, a list of
        100 records on PostgreSQL took one round trip instead of three but served 8% fewer
        requests/s, with a p99 three times higher (``nox -s bench -- list``, 4 clients), than
        reading the page once the check has passed."""
        return None

    @classmethod
    def timestamps_to_prefetch(cls, request: Any) -> list[tuple[str, str]]:
        """Hook: the ``(resource_name, parent_id)`` of the collections whose timestamp a plural
        read of this route will ask (its ETag), read ahead with the ACLs (see
        ``ResourceContext.prefetch``); none by default. Only asked when the ids of the route are
        valid (``objects_to_prefetch`` did not answer None) and no page is read ahead."""
        return []

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

    def cache_headers(self, response: Any) -> None:
        """Hook: the cache headers of a read.

        Only anonymous reads may be cached (``<name>_cache_expires_seconds``):
        what an identified user was allowed to read must never be kept by a
        shared cache, so every other read says ``no-cache, no-store``, as Kinto's.
        """
        seconds = self.settings.get(f"{self.name}_cache_expires_seconds")
        if self.request.prefixed_userid is None and seconds is not None and seconds != "":
            response.cache_expires(int(seconds))  # a setting without a default: kept as written
            return
        # The header itself: webob's ``cache_control`` parses and writes it again per attribute (16 us).
        response.headers["Cache-Control"] = "no-cache, no-store"

    def present(self, obj: dict[str, Any]) -> dict[str, Any]:
        """The object as clients see it (without the permissions field)."""
        field = getattr(self.model, "permissions_field", None)  # ShareableModel's
        if field and field in obj:
            return {key: value for key, value in obj.items() if key != field}
        return obj

    def _present_all(self, objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """``present`` of each object: a page's worth at once when ``present`` is this class's."""
        if type(self).present is not Resource.present:
            return [self.present(obj) for obj in objects]
        field = getattr(self.model, "permissions_field", None)
        if not field:
            return objects
        return [obj if field not in obj else self.present(obj) for obj in objects]

    @property
    def id_field(self) -> str:
        return self.model.id_field

    @property
    def modified_field(self) -> str:
        return self.model.modified_field

    # --- reading the request -------------------------------------------------------------------

    def _object_id(self) -> str:
        object_id = self.request.matchdict["id"]
        if not self.valid_id(self.settings, object_id):
            raise errors.invalid("Invalid object id", location="path", name="id")
        return object_id

    def _params(self) -> Any:
        return errors.request_GET(self.request)

    def _body(
        self, content_types: tuple[str, ...] = ("application/json",), nullable_permissions: bool = False
    ) -> dict[str, Any]:
        return read_body(self.request, self._permission_names(), content_types, nullable_permissions)

    def _permission_names(self) -> tuple[str, ...]:
        """The permissions a client may set on an object (none where objects carry none)."""
        return self.permissions if self.shareable else ()

    def _validate(self, new: dict[str, Any], old: dict[str, Any] | None) -> dict[str, Any]:
        """Readonly fields, the ``process_object`` hook, then the schema."""
        for field in self.readonly_fields:
            if field in (self.id_field, self.modified_field):
                continue
            if old is None and field in new:
                raise errors.invalid("Cannot be set (read-only field)", location="body", name=field)
            if old is not None and new.get(field) != old.get(field):
                raise errors.invalid("Cannot be modified (read-only field)", location="body", name=field)
        new = self.process_object(new, old=old)
        if self.schema is not None:
            reserved = (self.id_field, self.modified_field, self.model.deleted_field, *self.readonly_fields)
            data = {key: value for key, value in new.items() if key not in reserved}
            try:
                validated = validate_data(self.schema, data)
            except ValidationFailure as failure:
                name = f"data.{failure.field}" if failure.field else "data"
                raise errors.invalid(failure.description, location="body", name=name) from None
            new = {**validated, **{key: new[key] for key in reserved if key in new}}
        if self.modified_field in new:
            requested = client_timestamp(new.pop(self.modified_field))
            if requested is not None:
                new[self.modified_field] = requested
        return new

    # --- preconditions and headers -------------------------------------------------------------

    def _timestamp(self) -> int:
        try:
            return self.model.timestamp()
        except ReadonlyError:
            return 0

    def _precondition(self, current: int | None, exists: bool = True, existing: dict[str, Any] | None = None) -> None:
        """If-Match / If-None-Match against ``current``, the version of the list or of ``existing``."""
        outcome = preconditions.evaluate(self.request.headers, self.request.method, current, exists)
        if outcome is Outcome.NOT_MODIFIED:
            response = preconditions.not_modified(current)
            self.cache_headers(response)
            raise response
        if outcome is Outcome.FAILED:
            raise preconditions.failed(current, exists, self.present(existing) if exists and existing else None)

    def _object_precondition(self, existing: dict[str, Any] | None) -> None:
        current = existing[self.modified_field] if existing is not None else None
        self._precondition(current, exists=existing is not None, existing=existing)

    def _object_body(self, obj: dict[str, Any]) -> dict[str, Any]:
        body: dict[str, Any] = {"data": self.present(obj)}
        if self.shareable:
            body["permissions"] = obj.get(self.model.permissions_field, {})
        return body

    # --- events --------------------------------------------------------------------------------

    def _event_data(self, object_id: str | None = None) -> dict[str, Any]:
        data = {key: value for key, value in (self.request.matchdict or {}).items() if key != "id"}
        if object_id is not None:
            data[f"{self.name}_id"] = object_id
            data["uri"] = self.permission_object_id(object_id)
        else:
            data["uri"] = self.plural_uri(self.request.matchdict or {})
        return data

    def _notify(self, action: ACTIONS, new: Any, old: Any = None, object_id: str | None = None) -> None:
        objects = new if isinstance(new, list) else [new]
        stamps = [obj.get(self.modified_field, 0) for obj in objects if isinstance(obj, dict)]
        timestamp = max(stamps) if stamps else self._timestamp()
        notify_resource_event(
            self.request,
            self.model.parent_id,
            timestamp,
            new,
            action,
            old=old,
            resource_name=self.name,
            resource_data=self._event_data(object_id),
        )

    def _read_event(self, objects: list[dict[str, Any]], object_id: str | None = None) -> None:
        if reads_are_heard(self.request.registry):
            notify_resource_read(
                self.request,
                objects,
                resource_name=self.name,
                resource_data=self._event_data(object_id),
                parent_id=self.model.parent_id,
                timestamp=self._timestamp(),
            )

    # --- storage -------------------------------------------------------------------------------

    def _lock(self) -> None:
        self.model.storage.lock_for_write(self.name, self.model.parent_id)

    def _write_object(self, object_id: str, write: Callable[[dict[str, Any] | None, bool], Any]) -> Any:
        """Run ``write(existing, locked)`` over the object's current version ``existing`` (None:
        missing) and return what it returns; the write must be over that version, never a later one.

        When the model writes conditionally (:func:`~kinto.core.resource.model.writes_conditionally`),
        first without the collection's lock: ``existing`` is the object as read ahead (or read now),
        and its update or delete is made to expect that version (``Model.expected_versions``), a
        create to find no object. If the object changed meanwhile storage wrote nothing: ``write``
        runs again, as it always does otherwise, with the lock taken and the object read after it.
        An answer that writes nothing (a failed precondition, a 404) is the object's state when read.
        """
        if writes_conditionally(self.model):
            existing = self._get_or_none(object_id)
            if existing is not None:
                self.model.expected_versions[object_id] = existing[self.modified_field]
            try:
                return write(existing, False)
            except (ObjectChangedError, UnicityError):
                pass  # written meanwhile: again, under the lock
            finally:
                self.model.expected_versions.pop(object_id, None)
        self._lock()
        self.model.prefetched_objects.pop((self.name, self.model.parent_id, object_id), None)
        return write(self._get_or_none(object_id), True)

    def _get_or_none(self, object_id: str) -> dict[str, Any] | None:
        try:
            return call_model(self.model, "get", object_id)
        except ObjectNotFoundError:
            return None

    def _get_or_404(self, object_id: str) -> dict[str, Any]:
        found = self._get_or_none(object_id)
        if found is None:
            raise self._not_found()
        return found

    def _not_found(self) -> Exception:
        # errno 110 (invalid resource id), not 111: what Kinto answers for a missing object, and what
        # its clients test; 111 stays for unknown URLs and missing parents.
        return http_error(
            httpexceptions.HTTPNotFound(),
            errno=ERRORS.INVALID_RESOURCE_ID,
            message="Object not found",
            details={"id": self.request.matchdict.get("id"), "resource_name": self.name},
        )

    def _store(self, operation: str, new: dict[str, Any]) -> dict[str, Any]:
        """``create`` or ``update``; a value the backend refuses is a 400 (a conflict is the caller's)."""
        try:
            return call_model(self.model, operation, new)
        except InvalidValueError as error:
            raise errors.invalid(str(error), location="body", name="data") from None

    def _may(self, permission: str, object_id: str) -> bool:
        if self.context is None:
            return True
        return self.context.has_permission(
            self.request.prefixed_principals, permission, self.permission_object_id(object_id)
        )

    # --- querystring ---------------------------------------------------------------------------

    def _query(self, for_delete: bool = False) -> qs.ListQuery:
        params = self._params()
        shared = self.route_context.shared_ids if self.route_context is not None else None
        try:
            query = qs.parse_list_query(
                params, self.id_field, self.modified_field, self._page_size(), self._token_secret(), shared, for_delete
            )
        except qs.InvalidQuery as invalid:
            raise errors.invalid(invalid.description, location="querystring", name=invalid.name) from None
        if "_to" in params:
            errors.send_alert(self.request, "_to is deprecated: use _before instead", url=_TO_DEPRECATION_URL)
        return query

    def _page_size(self) -> int:
        return qs.page_size(self.settings)

    def _token_secret(self) -> bytes:
        # Never the user-id key: GET /v1/ answers its HMAC of any text (see kinto.core.secrets).
        return derived_key(self.settings, PAGINATION_TOKENS)

    def _next_page(self, query: qs.ListQuery, last: dict[str, Any]) -> str:
        ttl = self.settings["pagination_token_validity_seconds"]
        params = qs.next_page_params(self._params(), query, last, self._token_secret(), ttl)
        request = self.request
        root = request.parent if getattr(request, "parent", None) is not None else request  # batch sub-requests
        return f"{root.host_url}{request.path}?{urlencode(params)}"

    def _fetch(self, query: qs.ListQuery) -> tuple[list[dict[str, Any]], bool]:
        """A page of objects, and whether more follow."""
        limit = query.limit
        try:
            objects = call_model(
                self.model,
                "list",
                filters=query.filters,
                sorting=query.sorting,
                pagination_rules=query.rules,
                limit=limit + 1 if limit else None,
                include_deleted=query.include_deleted,
            )
        except InvalidValueError as error:
            raise errors.invalid(str(error), location="querystring", message=str(error)) from None
        has_more = bool(limit) and len(objects) > limit
        return (objects[:limit] if has_more else objects), has_more

    def _kept_fields(self, objects: list[dict[str, Any]], query: qs.ListQuery) -> list[dict[str, Any]]:
        if query.fields is None:
            return objects
        always = (self.id_field, self.modified_field, self.model.deleted_field)
        return [qs.keep_fields(obj, query.fields, always) for obj in objects]

    # --- plural endpoints ------------------------------------------------------------------------

    def plural_head(self) -> Any:
        return self.plural_get(head=True)

    def plural_get(self, head: bool = False) -> Any:
        check_accept(self.request)
        query = self._query()
        timestamp = self._timestamp()
        self._precondition(timestamp)
        response = self.request.response
        set_etag(response, timestamp)
        self.cache_headers(response)
        if head:
            try:
                total = self.model.count_objects(filters=query.filters)
            except InvalidValueError as error:
                raise errors.invalid(str(error), location="querystring", message=str(error)) from None
            response.headers["Total-Objects"] = response.headers["Total-Records"] = str(total)
        objects, has_more = self._fetch(query)
        if has_more:
            response.headers["Next-Page"] = self._next_page(query, objects[-1])
        objects = self._present_all(objects)
        self._read_event(objects)
        return {"data": self._kept_fields(objects, query)}

    def plural_post(self) -> Any:
        check_accept(self.request)
        body = self._body()
        data = dict(body.get("data") or {})
        object_id = data.get(self.id_field)
        existing = None
        if object_id is not None:
            self._check_posted_id(object_id)
            if not writes_conditionally(self.model):
                self._lock()
            existing = self._get_or_none(object_id)
        # Without an id nothing is read before the write: the create takes the collection's lock itself.
        # A POST never overwrites: its create refuses an object created since the read (UnicityError,
        # answered below as if it had been read), so a model writing as the core's needs no lock.
        # As Kinto: preconditions apply to the posted object (``If-None-Match: *`` = create only),
        # checked once the caller is known to may read it (a 412 shows the existing object).
        answer = self._existing_on_post(existing) if existing is not None else None
        self._object_precondition(existing)
        if answer is not None:
            return answer
        if self.route_context is not None and self.route_context.allowed_to_read_only:
            # Let in to read an object that was deleted since: creating needs ``create``.
            raise http_error(httpexceptions.HTTPForbidden(), errno=ERRORS.FORBIDDEN, message=_FORBIDDEN)
        new = self._posted_object(data, body)
        try:
            created = self._store("create", new)
        except UnicityError as conflict:
            if conflict.existing is not None:
                found = self._get_or_none(conflict.existing[self.id_field]) or conflict.existing
                answer = self._existing_on_post(found)
                self._object_precondition(found)  # ``If-None-Match: *``: the racer won, a 412
                return answer
            raise http_error(httpexceptions.HTTPConflict(), message="Object exists already") from None
        self.request.response.status_code = 201
        set_etag(self.request.response, created[self.modified_field])
        self._notify(ACTIONS.CREATE, self.present(created), object_id=created[self.id_field])
        return self._object_body(created)

    def _check_posted_id(self, object_id: Any) -> None:
        if not isinstance(object_id, str) or not self.valid_id(self.settings, object_id):
            raise errors.invalid("Invalid object id", location="body", name="data.id")

    def _posted_object(self, data: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        """The object a POST of ``body`` (its ``data`` given apart) stores: validated, with its permissions."""
        new = self._validate(data, None)
        if self.shareable:
            new[self.model.permissions_field] = body.get("permissions", {})
        return new

    def plural_post_many(self, bodies: list[Any]) -> list[tuple[int, dict[str, Any]] | None]:
        """Create one object per body, as ``plural_post`` would for each in turn, writing them together.

        Answers, per body, the created object's timestamp and response body, or None for a
        body that is no plain creation (invalid, or naming an object that exists or that an
        earlier body creates): a ``plural_post`` of its own answers it, creating nothing,
        once these are stored. The request's checks (permission, parent, ``Accept``) hold
        for every body; its own body is not read.
        """
        check_accept(self.request)
        if self.route_context is not None and self.route_context.allowed_to_read_only:
            return [None] * len(bodies)
        candidates: dict[int, dict[str, Any]] = {}
        for index, body in enumerate(bodies):
            try:
                checked = checked_body(dict(body), self._permission_names())
                data = dict(checked.get("data") or {})
                if self.id_field in data:
                    self._check_posted_id(data[self.id_field])
                candidates[index] = self._posted_object(data, checked)
            except httpexceptions.HTTPException:
                continue  # its own plural_post answers the error
        self._leave_taken_ids(candidates)
        try:
            created = self.model.create_objects(list(candidates.values()))
        except InvalidValueError as error:
            raise errors.invalid(str(error), location="body", name="data") from None
        except UnicityError:
            raise http_error(httpexceptions.HTTPConflict(), message="Object exists already") from None
        answers: list[tuple[int, dict[str, Any]] | None] = [None] * len(bodies)
        for index, obj in zip(candidates, created, strict=True):
            self._notify(ACTIONS.CREATE, self.present(obj), object_id=obj[self.id_field])
            answers[index] = (obj[self.modified_field], self._object_body(obj))
        return answers

    def _leave_taken_ids(self, candidates: dict[int, dict[str, Any]]) -> None:
        """Drop the objects naming an id that is alive (read under the collection's lock, taken
        then: ids drawn by the server need neither), or that an earlier candidate takes."""
        named: dict[str, int] = {}
        for index, obj in list(candidates.items()):
            object_id = obj.get(self.id_field)
            if object_id is None:
                continue
            if object_id in named:
                del candidates[index]
            else:
                named[object_id] = index
        if not named:
            return
        self._lock()
        taken = call_model(self.model, "list", filters=[Filter(self.id_field, sorted(named), COMPARISON.IN)])
        for obj in taken:
            candidates.pop(named[obj[self.id_field]], None)

    def _existing_on_post(self, existing: dict[str, Any]) -> Any:
        """POST of an id that exists reads it: what a GET shows the caller, or the 403 of a read."""
        if self.shareable and not self._may("read", existing[self.id_field]):
            raise http_error(httpexceptions.HTTPForbidden(), errno=ERRORS.FORBIDDEN, message=_FORBIDDEN)
        set_etag(self.request.response, existing[self.modified_field])
        return self._shown_body(existing)

    def plural_delete(self) -> Any:
        check_accept(self.request)
        query = self._query(for_delete=True)
        self._lock()
        self._precondition(self._timestamp())
        objects, has_more = self._fetch(query)
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
        return {"data": self._kept_fields(ordered, query)}

    # --- object endpoints ------------------------------------------------------------------------

    def head(self) -> Any:
        return self.get()

    def get(self) -> Any:
        check_accept(self.request)
        object_id = self._object_id()
        obj = self._get_or_404(object_id)  # whatever the preconditions, as Kinto
        self._object_precondition(obj)
        response = self.request.response
        set_etag(response, obj[self.modified_field])
        self.cache_headers(response)
        try:
            fields = qs.parse_fields(self._params().get("_fields"))
        except qs.InvalidQuery as invalid:
            raise errors.invalid(invalid.description, location="querystring", name=invalid.name) from None
        self._read_event([self.present(obj)], object_id)
        body = self._shown_body(obj)
        if fields is not None:
            body["data"] = qs.keep_fields(body["data"], fields, (self.id_field, self.modified_field))
        return body

    def _shown_body(self, obj: dict[str, Any]) -> dict[str, Any]:
        """The object as a read shows it to the caller: its ACL only to those who may write it
        (others get ``"permissions": {}``, as Kinto answers them)."""
        body = self._object_body(obj)
        if self.shareable and not self._may("write", obj[self.id_field]):
            body["permissions"] = {}
        return body

    def put(self) -> Any:
        check_accept(self.request)
        object_id = self._object_id()
        body = self._body()
        data = dict(body.get("data") or {})
        if self.id_field in data and data[self.id_field] != object_id:
            raise errors.invalid("Does not match the id in the URL", location="body", name="data.id")
        return self._write_object(object_id, lambda existing, locked: self._put(object_id, body, existing, locked))

    def _put(self, object_id: str, body: dict[str, Any], existing: dict[str, Any] | None, locked: bool) -> Any:
        if existing is not None and self.route_context is not None and self.route_context.allowed_by_create:
            self._refuse_replacing(existing)
        self._object_precondition(existing)
        new = self._replacement(object_id, body, existing)
        try:
            stored = self._store("create" if existing is None else "update", new)
        except UnicityError:
            if not locked:
                raise  # created meanwhile: see _write_object
            raise http_error(httpexceptions.HTTPConflict(), message="Object was created meanwhile") from None
        response = self.request.response
        response.status_code = 200 if existing is not None else 201
        set_etag(response, stored[self.modified_field])
        action = ACTIONS.UPDATE if existing is not None else ACTIONS.CREATE
        self._notify(
            action, self.present(stored), old=self.present(existing) if existing else None, object_id=object_id
        )
        return self._object_body(stored)

    def _replacement(self, object_id: str, body: dict[str, Any], existing: dict[str, Any] | None) -> dict[str, Any]:
        """The object a PUT of ``body`` stores in place of ``existing``."""
        if "data" in body or existing is None:
            data = dict(body.get("data") or {})
        else:
            # As Kinto: a PUT of permissions alone keeps the data (kinto-http's setPermissions).
            data = {key: value for key, value in self.present(existing).items() if key != self.modified_field}
        data[self.id_field] = object_id
        if existing is not None:
            for field in self.readonly_fields:
                if field in existing and field not in data:
                    data[field] = existing[field]
        new = self._validate(data, existing)
        requested = client_timestamp((body.get("data") or {}).get(self.modified_field))
        if requested is not None:
            new[self.modified_field] = requested
        if self.shareable:
            # Given permissions replace the whole ACL; none (or ``{}``, as Kinto) keep it.
            new[self.model.permissions_field] = body.get("permissions") or None
        return new

    def _refuse_replacing(self, existing: dict[str, Any]) -> None:
        """A PUT let in to create finds the object there (created before, or meanwhile by a racer).

        With ``If-None-Match: *`` the client asked to create only: it lost, a 412, as Kinto answers
        whether or not the winner had committed when the permission was checked. Who may not read
        the object is not shown it (Kinto's 412 shows it to anyone). Otherwise: a 403.
        """
        if preconditions.parse_etags(self.request.headers, "If-None-Match") != "*":
            raise http_error(httpexceptions.HTTPForbidden(), message="Not allowed to replace this object")
        if self._may("read", existing[self.id_field]):
            raise preconditions.failed(existing[self.modified_field], True, self.present(existing))
        raise preconditions.failed(None, True)

    def patch(self) -> Any:
        check_accept(self.request)
        # Every part of the request is checked before anything is written.
        behavior = (self.request.headers.get("Response-Behavior") or "full").lower()
        if behavior not in ("full", "light", "diff"):
            raise errors.invalid("Should be one of full, light, diff", location="header", name="Response-Behavior")
        object_id = self._object_id()
        body = self._body(content_types=(*MERGE_TYPES, JSON_PATCH), nullable_permissions=True)
        return self._write_object(object_id, lambda existing, _: self._patch(object_id, body, behavior, existing))

    def _patch(self, object_id: str, body: dict[str, Any], behavior: str, existing: dict[str, Any] | None) -> Any:
        if existing is None:  # before the preconditions, as Kinto: If-Match on a missing object
            raise self._not_found()
        self._object_precondition(existing)
        if not body.keys() & {"patch", "data", "permissions"}:
            # As Kinto: a PATCH that names nothing to change is a mistake, not a no-op.
            raise errors.invalid(
                "Provide at least one of data or permissions",
                location="body",
                name="data",
                message="Provide at least one of data or permissions",
            )
        present = self.present(existing)
        current_permissions = existing.get(self.model.permissions_field, {}) if self.shareable else {}
        sent, changes, permissions = self._patched(present, current_permissions, body)
        if changes.get(self.id_field, object_id) != object_id:
            raise errors.invalid("Cannot be modified", location="body", name="data.id")
        changes[self.id_field] = object_id
        requested = client_timestamp(sent.get(self.modified_field)) if "patch" not in body else None
        changes[self.modified_field] = present.get(self.modified_field)
        new = self._validate(changes, present)
        if new == present and (permissions is None or patching.same_permissions(permissions, current_permissions)):
            stored = existing
        else:
            if requested is not None:
                new[self.modified_field] = requested
            else:
                new.pop(self.modified_field, None)
            if self.shareable:
                new[self.model.permissions_field] = permissions if permissions is not None else current_permissions
            stored = self._store("update", new)
            self._notify(ACTIONS.UPDATE, self.present(stored), old=present, object_id=object_id)
        set_etag(self.request.response, stored[self.modified_field])
        if behavior == "full":
            return self._object_body(stored)
        # No permissions in a ``light`` or ``diff`` answer, as Kinto.
        return {"data": patching.changed_fields(sent, present, self.present(stored), behavior)}

    def _patched(
        self, present: dict[str, Any], current_permissions: dict[str, list[str]], body: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, Any], dict[str, list[str]] | None]:
        """What a PATCH sent, the object it asks for, and its permissions (None: unchanged)."""
        if "patch" in body:
            try:
                changes, permissions = patching.json_patched(
                    present,
                    current_permissions,
                    body["patch"],
                    self._permission_names(),
                    self.settings["json_max_depth"],
                )
            except patching.InvalidPatch as invalid:
                message = None if invalid.name else invalid.description
                raise errors.invalid(invalid.description, location="body", name=invalid.name, message=message) from None
            # The same checks as permissions sent in a body (known names, principals without NUL...).
            if permissions is not None:
                permissions = checked_permissions(permissions, self._permission_names())
            return changes, changes, permissions
        sent = body.get("data") or {}
        merge = (self.request.content_type or "").lower() == "application/merge-patch+json"
        changes, permissions = patching.merged(present, current_permissions, sent, body.get("permissions"), merge)
        return sent, changes, permissions

    def delete(self) -> Any:
        check_accept(self.request)
        object_id = self._object_id()
        return self._write_object(object_id, lambda existing, _: self._delete(object_id, existing))

    def _delete(self, object_id: str, existing: dict[str, Any] | None) -> Any:
        if existing is None:  # before the preconditions, as Kinto: If-Match on a missing object
            raise self._not_found()
        self._object_precondition(existing)
        tombstone = call_model(self.model, "delete", existing)
        set_etag(self.request.response, tombstone[self.modified_field])
        self._notify(ACTIONS.DELETE, tombstone, old=self.present(existing), object_id=object_id)
        return {"data": tombstone}

    # Kinto's former view names.
    collection_get = plural_get
    collection_post = plural_post
    collection_delete = plural_delete


_DEFAULT_GENERATOR: Generator = UUID4()
