"""Error views: every error, from a view, from Pyramid or from a crash, in the one JSON format."""

from __future__ import annotations

import json
import logging
from typing import Any

from pyramid import httpexceptions
from pyramid.security import NO_PERMISSION_REQUIRED

from kinto.core.errors import DEFAULT_ERRNOS, ERRORS, http_error, json_error_body
from kinto.core.settings import api_prefix
from kinto.core.storage.exceptions import BackendError

logger = logging.getLogger(__name__)


def _finish(request: Any, error: httpexceptions.HTTPException) -> httpexceptions.HTTPException:
    """Complete the body (``info`` link of 5xx) and remember the errno for the summary log."""
    body = getattr(error, "kinto_error", None)
    if body is None:
        body = json_error_body(
            error.code, DEFAULT_ERRNOS.get(error.code, ERRORS.UNDEFINED), error.title, error.detail or None
        )
    if "info" not in body and error.code >= 500:  # as Kinto: the link goes with server errors only
        info = request.registry.settings["error_info_link"]
        if info:
            body = {**body, "info": info}
    error.content_type = "application/json"
    error.charset = "utf-8"
    error.text = json.dumps(body)
    error.kinto_error = body
    request.errno = body.get("errno")
    return error


def http_exception_view(context: httpexceptions.HTTPException, request: Any) -> Any:
    """Any ``HTTPException`` raised: errors get the JSON body; redirects and successes pass."""
    if context.code < 400:
        return context
    if context.code == 404:
        return not_found_view(context, request)
    if getattr(context, "kinto_error", None) is None:
        message = context.detail if isinstance(context.detail, str) and context.detail else None
        if context.code == 405 and message is None:
            message = f"Method {request.method} not allowed on this endpoint."
        http_error(context, message=message)
    return _finish(request, context)


def not_found_view(context: Any, request: Any) -> Any:
    settings = request.registry.settings
    path = request.path
    prefix = "/" + api_prefix(settings)
    if path != prefix and not path.startswith(prefix + "/"):
        # Another API version (``/v2/...``): errno 116, so that clients tell it from a missing object.
        error = http_error(
            httpexceptions.HTTPNotFound(),
            errno=ERRORS.VERSION_NOT_AVAILABLE,
            message="This server does not serve the requested API version.",
        )
        return _finish(request, error)
    if settings["trailing_slash_redirect_enabled"] and request.method in ("GET", "HEAD"):
        redirect = _trailing_slash_redirect(request, path)
        if redirect is not None:
            return redirect
    if getattr(context, "kinto_error", None) is not None:
        return _finish(request, context)
    error = http_error(
        httpexceptions.HTTPNotFound(),
        errno=ERRORS.MISSING_RESOURCE,
        message="The resource you are looking for could not be found.",
    )
    return _finish(request, error)


def _trailing_slash_redirect(request: Any, path: str) -> Any:
    from pyramid.interfaces import IRoutesMapper

    mapper = request.registry.queryUtility(IRoutesMapper)
    candidate = path[:-1] if path.endswith("/") and len(path) > 1 else path + "/"
    if mapper is None:
        return None
    for route in mapper.get_routes():
        if route.name == "redirect_to_version":
            continue
        if route.match(candidate) is not None:
            querystring = f"?{request.query_string}" if request.query_string else ""
            response = httpexceptions.HTTPTemporaryRedirect(candidate + querystring)
            ttl = request.registry.settings["trailing_slash_redirect_ttl_seconds"]
            if ttl >= 0:
                response.cache_expires(ttl)
            return response
    return None


def forbidden_view(context: Any, request: Any) -> Any:
    """401 for anonymous callers (with each policy's challenge), 403 otherwise."""
    if getattr(context, "kinto_error", None) is not None:
        return _finish(request, context)
    if request.authenticated_userid is None:
        error = http_error(
            httpexceptions.HTTPUnauthorized(),
            errno=ERRORS.MISSING_AUTH_TOKEN,
            message="Please authenticate yourself to use this endpoint.",
        )
        from pyramid.security import forget

        error.headers.extend(forget(request))
        return _finish(request, error)
    error = http_error(
        httpexceptions.HTTPForbidden(), errno=ERRORS.FORBIDDEN, message="This user cannot access this resource."
    )
    return _finish(request, error)


def backend_error_view(context: BackendError, request: Any) -> Any:
    logger.error("Backend failure on %s %s: %s", request.method, request.path, context, exc_info=context)
    error = http_error(
        httpexceptions.HTTPServiceUnavailable(),
        errno=ERRORS.BACKEND,
        message="Service temporary unavailable due to overloading or maintenance, please retry later.",
    )
    error.headers["Retry-After"] = str(request.registry.settings["retry_after_seconds"])
    return _finish(request, error)


def unhandled_error_view(context: Exception, request: Any) -> Any:
    logger.critical("Unhandled error on %s %s", request.method, request.path, exc_info=context)
    error = http_error(
        httpexceptions.HTTPInternalServerError(),
        errno=ERRORS.UNDEFINED,
        message="A programmatic error occured, developers have been informed.",
    )
    return _finish(request, error)


def cornice_error_subscriber(event: Any) -> None:
    """Rewrite Cornice's own error bodies (plain ``cornice.Service``) into the core's format."""
    response = event.response
    if response.status_code < 400 or response.content_type != "application/json":
        return
    try:
        body = response.json_body
    except (ValueError, UnicodeDecodeError):
        return
    if not isinstance(body, dict) or body.get("status") != "error" or "errors" not in body:
        return
    details = body["errors"]
    first = details[0] if details else {}
    name, location = first.get("name"), first.get("location", "body")
    description = first.get("description", "Invalid request")
    message = f"{name} in {location}: {description}" if name else str(description)
    code = response.status_code
    errno = ERRORS.INVALID_PARAMETERS
    new = json_error_body(
        code,
        DEFAULT_ERRNOS.get(code, errno) if code != 400 else errno,
        response.status.split(" ", 1)[-1],
        message,
        None,
        details,
    )
    response.text = json.dumps(new)
    event.request.errno = new["errno"]


def setup(config: Any) -> None:
    from pyramid.events import NewResponse

    config.add_view(http_exception_view, context=httpexceptions.HTTPException, permission=NO_PERMISSION_REQUIRED)
    config.add_notfound_view(not_found_view)
    config.add_forbidden_view(forbidden_view)
    config.add_view(backend_error_view, context=BackendError, permission=NO_PERMISSION_REQUIRED)
    config.add_view(unhandled_error_view, context=Exception, permission=NO_PERMISSION_REQUIRED)
    config.add_subscriber(cornice_error_subscriber, NewResponse)
