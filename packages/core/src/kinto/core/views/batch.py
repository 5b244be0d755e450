"""``POST /v1/batch``: several requests in one HTTP call and one transaction.

The body is ``{"defaults": {...}, "requests": [{"method", "path", "headers",
"body"}, ...]}``; the answer is ``{"responses": [{"status", "path", "headers",
"body"}, ...]}``, one per sub-request, in order.

Atomicity (what a client may rely on):

* the whole batch runs in ONE storage/permission transaction: every
  sub-request joins the transaction of the ``POST /batch`` request;
* a sub-request answering a server error (5xx), or crashing, stops the batch:
  nothing of the batch is committed, and the batch itself answers that status
  in the core's error format, with ``details`` naming the failing
  sub-request (``index``, ``method``, ``path``, ``status``);
* each sub-request runs in a savepoint of that transaction (storage and
  permission backends, see ``StorageBase.savepoint``): a sub-request answering
  a client error (4xx) is rolled back to it, so it leaves nothing behind, not
  even what it wrote before failing; the other sub-requests are committed (each
  sub-request's success is independent, as in Kinto). A backend without
  ``supports_savepoints`` cannot undo a failing sub-request's writes;
* resource events of the whole batch are announced once: ``ResourceChanged``
  before the commit, ``AfterResourceChanged`` after it, nothing at all when the
  batch is rolled back, nor for a sub-request rolled back to its savepoint;
* the cache backend is not transactional: what a sub-request writes there
  stays, whatever its answer (unless the cache shares the storage's SQL
  database, and so its transaction).

Each sub-request goes through the tweens (so it is authenticated, authorized
and CORS-decorated as itself) and is built from the batch request's headers
overridden by its own (an ``Authorization`` of the batch applies to every
sub-request that does not give its own, as in Kinto). Only the batch is
written in the request summary log.

Runs of creates: consecutive POSTs with a body to the plural endpoint of one
registered resource, with the same path and headers and none conditional, are
served by one sub-request (:mod:`kinto.core.resource.bulk`): authenticated,
authorized and checked for their parent once, each body validated as its own
POST would be, the objects written together (``StorageBase.create_many``). Each
still answers as its own POST: 201 with its object, or, for a body that is no
plain creation (invalid, naming an existing object...), the answer of its own
sub-request, run after the others are stored. A run that its sub-request does
not serve (refused, or not a resource creating in bulk) is undone and runs POST
by POST; so is every batch when the application subscribes to Pyramid's
per-request events.

What a payload may hold (its rules, JSON Schemas and OpenAPI operation) is
:mod:`kinto.core.views.batch_payload`; its names are importable from here too.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager, nullcontext
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from pyramid import httpexceptions
from pyramid.events import ContextFound, NewRequest
from pyramid.interfaces import IRequestFactory, IRoutesMapper
from pyramid.request import Request
from pyramid.security import NO_PERMISSION_REQUIRED
from zope.interface import implementedBy

from kinto.core import events, jsontext
from kinto.core.errors import http_error, invalid
from kinto.core.initialization import api_prefix
from kinto.core.jsonbody import parse_request_body, too_deep
from kinto.core.resource.bulk import BulkCreates
from kinto.core.resource.preconditions import http_date
from kinto.core.resource.registration import registered_resources
from kinto.core.service import Service
from kinto.core.views.batch_payload import (
    OPENAPI_ERRORS,
    REQUEST_BODY_SCHEMA,
    RESPONSE_BODY_SCHEMA,
    VALID_METHODS,
    BatchInvalid,
    SubRequestSpec,
    merge_defaults,
    openapi_operation,
    parse_batch_payload,
)

__all__ = [
    "BATCH_PATH",
    "OPENAPI_ERRORS",
    "REQUEST_BODY_SCHEMA",
    "RESPONSE_BODY_SCHEMA",
    "VALID_METHODS",
    "BatchInvalid",
    "SubRequestSpec",
    "batch",
    "merge_defaults",
    "openapi_operation",
    "parse_batch_payload",
    "prefixed_path",
]

logger = logging.getLogger(__name__)

BATCH_PATH = "/batch"
#: ``{"requests": [{"body": ...}]}``: the levels around a sub-request's body, which obeys
#: ``json_max_depth`` on its own when the sub-request parses it.
_ENVELOPE_DEPTH = 3
# Characters left as they are when a sub-request path is percent-encoded for WSGI
# (``%`` included: an already encoded path stays as the client wrote it).
_PATH_SAFE = "/?&=%:@!$'()*+,;~-._"
# The body is re-encoded for each sub-request: the batch's framing headers do not apply.
_FRAMING_HEADERS = frozenset({"content-length", "transfer-encoding", "content-encoding"})
_FOLLOWED_REDIRECTS = frozenset({307, 308})
#: A sub-request sending one of these has a precondition of its own: it is never served in a run.
_CONDITIONAL_HEADERS = frozenset({"if-match", "if-none-match", "if-modified-since", "if-unmodified-since"})
_JSON_CONTENT_TYPES = frozenset({"application/json", "application/json;charset=utf-8"})
#: Pyramid announces these once per request: with subscribers (other than the frameworks' own,
#: such as Cornice's request wrapper), every POST stays a request of its own.
_PER_REQUEST_EVENTS = (NewRequest, ContextFound)
_FRAMEWORK_MODULES = ("cornice.", "pyramid.", "kinto.core.")

batch = Service(name="batch", path=BATCH_PATH, description="Run several requests in one transaction")


def prefixed_path(path: str, prefix: str) -> str:
    """``path`` under the API prefix (``/v1``), whether or not the client wrote it."""
    if path == prefix or path.startswith((prefix + "/", prefix + "?")):
        return path
    return prefix + path


def _targets_batch(path: str, prefix: str) -> bool:
    location = unquote(prefixed_path(path, prefix).split("?", 1)[0])
    return location[len(prefix) :].rstrip("/") == BATCH_PATH


def _bad_request(problems: list[tuple[str, str]]) -> httpexceptions.HTTPException:
    details = [{"location": "body", "name": name, "description": description} for name, description in problems]
    name, description = problems[0]
    return invalid(description, location="body", name=name, details=details)


# --- running sub-requests -------------------------------------------------------------------------


def _build_subrequest(parent: Any, spec: SubRequestSpec, path: str) -> Any:
    headers = {name: value for name, value in parent.headers.items() if name.lower() not in _FRAMING_HEADERS}
    headers.update(spec.headers)
    body = b""
    if spec.body is not None:
        body = json.dumps(spec.body).encode("utf-8")
        if not any(name.lower() == "content-type" for name in spec.headers):
            headers["Content-Type"] = "application/json; charset=utf-8"
    environ = {"REMOTE_ADDR": parent.remote_addr} if parent.remote_addr else {}
    factory = parent.registry.queryUtility(IRequestFactory, default=Request)
    subrequest = factory.blank(
        quote(path, safe=_PATH_SAFE),
        environ=environ,
        base_url=parent.application_url,
        headers=headers,
        method=spec.method,
        body=body,
    )
    # Joins the parent's transaction, and gathers its events with the parent's
    # (see the transaction tween); the summary log skips requests with a parent.
    subrequest.parent = parent
    subrequest.bound_data = parent.bound_data
    return subrequest


def _invoke(parent: Any, subrequest: Any) -> Any:
    try:
        return parent.invoke_subrequest(subrequest, use_tweens=True)
    except Exception:  # the tweens render errors: only a bug in them lands here
        logger.exception("Batch sub-request %s %s crashed", subrequest.method, _path_of(subrequest))
        return http_error(httpexceptions.HTTPInternalServerError())


def _redirect_target(parent: Any, response: Any) -> str | None:
    """The path of a method-preserving redirect within this application (e.g. trailing slash)."""
    location = response.headers.get("Location")
    if response.status_code not in _FOLLOWED_REDIRECTS or not location:
        return None
    target = urlsplit(location)
    if target.netloc and target.netloc != parent.host:
        return None
    script_name = parent.script_name
    if script_name and target.path.startswith(script_name):
        path = target.path[len(script_name) :]
    else:
        path = target.path
    return unquote(path) + (f"?{target.query}" if target.query else "")


def _run(parent: Any, spec: SubRequestSpec, prefix: str) -> tuple[Any, Any]:
    path = prefixed_path(spec.path, prefix)
    subrequest = _build_subrequest(parent, spec, path)
    response = _invoke(parent, subrequest)
    redirected = _redirect_target(parent, response)
    if redirected is not None and not _targets_batch(redirected, prefix):
        subrequest = _build_subrequest(parent, spec, redirected)
        response = _invoke(parent, subrequest)
    return subrequest, response


class _Undone(Exception):
    """Leaves the sub-request's savepoints, rolling them back; carries its answer."""

    def __init__(self, subrequest: Any, response: Any) -> None:
        super().__init__(response.status)
        self.subrequest = subrequest
        self.response = response


@contextmanager
def _savepoints(registry: Any) -> Iterator[None]:
    """One savepoint per transactional backend (those the transaction tween opens)."""
    with ExitStack() as stack:
        for kind in ("storage", "permission"):
            backend = getattr(registry, kind, None)
            savepoint = getattr(backend, "savepoint", None)
            stack.enter_context(savepoint() if savepoint is not None else nullcontext())
        yield


def _run_undoable(parent: Any, spec: SubRequestSpec, prefix: str) -> tuple[Any, Any]:
    """Run one sub-request in savepoints; an error answer rolls its writes and events back."""
    forget_events = events.savepoint(parent)
    try:
        with _savepoints(parent.registry):
            subrequest, response = _run(parent, spec, prefix)
            if response.status_code >= 400:
                raise _Undone(subrequest, response)
    except _Undone as undone:
        forget_events()
        return undone.subrequest, undone.response
    return subrequest, response


def _path_of(subrequest: Any) -> str:
    """The sub-request's path; bytes that are not UTF-8 (refused with a 400) shown replaced,
    where ``subrequest.path`` would raise."""
    environ = subrequest.environ
    raw = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
    return raw.encode("latin-1").decode("utf-8", "replace")


def _response_body(subrequest: Any, response: Any) -> Any:
    if subrequest.method == "HEAD" or not response.body:
        return ""
    try:
        return jsontext.loads(response.body)
    except ValueError:
        return response.body.decode(response.charset or "utf-8", "replace")


def _describe(subrequest: Any, response: Any) -> dict[str, Any]:
    return {
        "status": response.status_code,
        "path": unquote(_path_of(subrequest)),
        "headers": dict(response.headers),
        "body": _response_body(subrequest, response),
    }


def _batch_failure(index: int, subrequest: Any, response: Any) -> httpexceptions.HTTPException:
    """The batch's own error when sub-request ``index`` answered a server error."""
    status = response.status_code
    described = _response_body(subrequest, response)
    sub_error = described if isinstance(described, dict) else {}
    exception_class = httpexceptions.status_map.get(status, httpexceptions.HTTPInternalServerError)
    path = unquote(_path_of(subrequest))
    reason = sub_error.get("message") or response.status
    error = http_error(
        exception_class(),
        errno=sub_error.get("errno"),
        error=sub_error.get("error"),
        message=f"Batch sub-request {index} ({subrequest.method} {path}) failed, nothing was committed: {reason}",
        details={"index": index, "method": subrequest.method, "path": path, "status": status},
    )
    if "Retry-After" in response.headers:
        error.headers["Retry-After"] = response.headers["Retry-After"]
    return error


# --- runs of creates -------------------------------------------------------------------------------


def _run_key(spec: SubRequestSpec, settings: Mapping[str, Any]) -> tuple[Any, ...] | None:
    """What the POSTs of one run share (path and headers), or None for a sub-request served alone:
    not a POST with a body, conditional, not JSON, or a body its own request would refuse
    before any view (``max_request_body_bytes``, ``json_max_depth``)."""
    if spec.method != "POST" or spec.body is None:
        return None
    for name, value in spec.headers.items():
        lowered = name.lower()
        if lowered in _CONDITIONAL_HEADERS:
            return None
        if lowered == "content-type" and value.lower().replace(" ", "") not in _JSON_CONTENT_TYPES:
            return None
    max_body = settings["max_request_body_bytes"]
    if max_body and len(json.dumps(spec.body)) > max_body:  # ASCII: as many bytes as characters
        return None
    if too_deep(spec.body, settings["json_max_depth"]):
        return None
    return (spec.path, tuple(sorted(spec.headers.items())))


def _runs(parent: Any, specs: list[SubRequestSpec]) -> list[list[int]]:
    """The indexes of ``specs`` in order, grouped: consecutive POSTs that a run may serve together
    (same path, same headers), every other sub-request alone."""
    registry = parent.registry
    if any(parent.headers.get(name) for name in _CONDITIONAL_HEADERS) or _hears_each_request(registry):
        return [[index] for index in range(len(specs))]
    groups: list[list[int]] = []
    previous: tuple[Any, ...] | None = None
    for index, spec in enumerate(specs):
        key = _run_key(spec, registry.settings)
        if key is not None and key == previous:
            groups[-1].append(index)
        else:
            groups.append([index])
        previous = key
    return groups


def _hears_each_request(registry: Any) -> bool:
    """Whether an application subscriber listens to an event Pyramid announces per request."""
    adapters = getattr(registry, "adapters", None)
    if adapters is None:
        return bool(getattr(registry, "has_listeners", False))
    return any(
        not (getattr(subscriber, "__module__", None) or "").startswith(_FRAMEWORK_MODULES)
        for event in _PER_REQUEST_EVENTS
        for subscriber in adapters.subscriptions((implementedBy(event),), None)
    )


def _serve_run(parent: Any, specs: list[SubRequestSpec], prefix: str) -> list[dict[str, Any] | None] | None:
    """Serve a run of POSTs with one sub-request (see :mod:`kinto.core.resource.bulk`).

    Returns, per POST, its answer, or None for one that a request of its own must answer
    (after this run's objects are stored); None for the whole run when it was not served
    (refused, or not a resource creating in bulk): nothing of it is kept then.
    """
    first = specs[0]
    path = prefixed_path(first.path, prefix)
    if not _routes_to_resource_list(parent.registry, path):
        return None
    bulk = BulkCreates([spec.body or {} for spec in specs])
    forget_events = events.savepoint(parent)
    try:
        with _savepoints(parent.registry):
            lead = SubRequestSpec(method="POST", path=first.path, headers=first.headers)
            subrequest = _build_subrequest(parent, lead, path)
            bulk.attach(subrequest)
            response = _invoke(parent, subrequest)
            if response.status_code != 200 or bulk.outcomes is None:
                raise _Undone(subrequest, response)
    except _Undone:
        forget_events()
        return None
    described = unquote(_path_of(subrequest))
    headers = dict(response.headers)
    return [None if outcome is None else _created(described, headers, *outcome) for outcome in bulk.outcomes]


def _routes_to_resource_list(registry: Any, path: str) -> bool:
    """Whether ``path`` is routed to the plural endpoint of a registered resource (a run is never
    sent, without a body, to any other view: some act on a POST whatever it holds)."""
    mapper = registry.queryUtility(IRoutesMapper)
    if mapper is None:
        return False
    location = unquote(path.split("?", 1)[0])
    route = next((route for route in mapper.get_routes() if route.match(location) is not None), None)
    if route is None:
        return False
    return any(info.plural_route == route.name for info in registered_resources(registry).values())


def _created(path: str, headers: dict[str, str], timestamp: int, body: dict[str, Any]) -> dict[str, Any]:
    """The answer a POST of its own gives an object it created: the run's headers, the object's version."""
    own = {**headers, "Content-Length": str(len(jsontext.compact(body)))}
    own["ETag"] = f'"{timestamp}"'
    own["Last-Modified"] = http_date(timestamp)
    return {"status": 201, "path": path, "headers": own, "body": body}


@batch.post(permission=NO_PERMISSION_REQUIRED, content_type=("application/json",))
def post_batch(request: Any) -> dict[str, Any]:
    """Run the sub-requests in order, in the request's one transaction (see the module
    docstring): an error answer undoes its own sub-request; the first 5xx fails and
    rolls back the whole batch."""
    if getattr(request, "parent", None) is not None:
        raise _bad_request([("requests", f"Recursive call on {BATCH_PATH} endpoint is forbidden.")])
    settings = request.registry.settings
    prefix = "/" + api_prefix(settings)
    max_requests = int(settings.get("batch_max_requests") or 0)
    try:
        specs = parse_batch_payload(parse_request_body(request, extra_depth=_ENVELOPE_DEPTH), max_requests)
    except BatchInvalid as invalid:
        raise _bad_request(invalid.problems) from None
    if any(_targets_batch(spec.path, prefix) for spec in specs):
        raise _bad_request([("requests", f"Recursive call on {BATCH_PATH} endpoint is forbidden.")])

    responses = []
    for group in _runs(request, specs):
        served = _serve_run(request, [specs[index] for index in group], prefix) if len(group) > 1 else None
        for offset, index in enumerate(group):
            if served is not None and served[offset] is not None:
                responses.append(served[offset])
                continue
            spec = specs[index]
            subrequest, response = _run_undoable(request, spec, prefix)
            logger.debug("Batch sub-request %s %s: %s", spec.method, _path_of(subrequest), response.status_code)
            if response.status_code >= 500:
                # Raising makes the transaction tween roll the whole batch back and drop its events.
                raise _batch_failure(index, subrequest, response)
            responses.append(_describe(subrequest, response))
    return {"responses": responses}
