"""Small endpoints the batch tests aim sub-requests at; they write to ``request.registry.storage``."""

from pyramid import httpexceptions

from kinto.core import Service
from kinto.core.database import REGISTRY_KEY
from kinto.core.errors import ERRORS, http_error
from kinto.core.events import ACTIONS, notify_resource_event
from kinto.core.storage.exceptions import BackendError, RecordNotFoundError

RESOURCE = "item"
PARENT = "/batch-tests"

items = Service(name="batch_items", path="/items")
item = Service(name="batch_item", path="/items/{id}")
failure = Service(name="batch_failure", path="/fail/{how}")
whoami = Service(name="batch_whoami", path="/whoami")
private = Service(name="batch_private", path="/private")
echo = Service(name="batch_echo", path="/echo")


def stored_items(registry):
    objects = registry.storage.list_all(RESOURCE, PARENT)
    return sorted(obj["id"] for obj in objects)


@items.get()
def list_items(request):
    return {"data": request.registry.storage.list_all(RESOURCE, PARENT)}


@item.get()
def get_item(request):
    try:
        return {"data": request.registry.storage.get(RESOURCE, PARENT, request.matchdict["id"])}
    except RecordNotFoundError:
        raise http_error(
            httpexceptions.HTTPNotFound(), errno=ERRORS.INVALID_RESOURCE_ID, message="no such item"
        ) from None


@item.put()
def put_item(request):
    body = request.json_body
    if not isinstance(body, dict) or not isinstance(body.get("data"), dict):
        # Validation happens before any write: a 4xx never leaves anything behind.
        raise http_error(httpexceptions.HTTPBadRequest(), errno=ERRORS.INVALID_POSTED_DATA, message="data missing")
    return {"data": write_item(request, request.matchdict["id"], body["data"])}


@item.delete()
def delete_item(request):
    storage = request.registry.storage
    object_id = request.matchdict["id"]
    try:
        old = storage.get(RESOURCE, PARENT, object_id)
    except RecordNotFoundError:
        raise http_error(
            httpexceptions.HTTPNotFound(), errno=ERRORS.INVALID_RESOURCE_ID, message="no such item"
        ) from None
    tombstone = storage.delete(RESOURCE, PARENT, object_id)
    notify_resource_event(
        request, PARENT, tombstone["last_modified"], tombstone, ACTIONS.DELETE, old=old, resource_name=RESOURCE
    )
    return {"data": tombstone}


def write_item(request, object_id, data):
    storage = request.registry.storage
    try:
        old = storage.get(RESOURCE, PARENT, object_id)
    except RecordNotFoundError:
        old = None
    new = storage.update(RESOURCE, PARENT, object_id, dict(data))
    action = ACTIONS.CREATE if old is None else ACTIONS.UPDATE
    notify_resource_event(request, PARENT, new["last_modified"], new, action, old=old, resource_name=RESOURCE)
    return new


def _sql_clients(request):
    return list(request.registry.get(REGISTRY_KEY, {}).values())


def _failing_statement(request):
    """Run a statement the database rejects, inside the current transaction."""
    clients = _sql_clients(request)
    if not clients:
        raise BackendError(message="simulated backend failure (no SQL database)")
    with clients[0].connect() as connection:
        connection.execute("SELECT * FROM batch_tests_no_such_table")


@failure.post()
def fail(request):
    """Write the item ``doomed-<how>``, then fail as ``how`` says."""
    how = request.matchdict["how"]
    write_item(request, f"doomed-{how}", {"how": how})
    if how == "crash":
        raise RuntimeError("a bug after writing")
    if how == "backend":
        raise BackendError(message="simulated backend failure")
    if how == "sql":
        _failing_statement(request)
    if how == "swallowed-sql":
        # A careless view: it hides the database error and answers a client error.
        try:
            _failing_statement(request)
        except BackendError:
            raise http_error(httpexceptions.HTTPConflict(), message="hid a database error") from None
    if how == "status-502":
        request.response.status = 502
        return {"answered": 502}
    raise http_error(httpexceptions.HTTPBadRequest(), message=f"unknown failure {how}")


@whoami.get()
def get_whoami(request):
    return {"userid": request.prefixed_userid, "principals": request.prefixed_principals}


@private.get()
def get_private(request):
    if request.prefixed_userid is None:
        raise httpexceptions.HTTPForbidden()
    return {"userid": request.prefixed_userid}


def _echo(request):
    return {
        "method": request.method,
        "path": request.path,
        "query": dict(request.GET),
        "headers": dict(request.headers),
        "body": request.json_body if request.body else None,
    }


for method in ("get", "post", "put", "patch", "delete"):
    getattr(echo, method)()(_echo)
