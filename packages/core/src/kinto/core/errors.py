"""The one JSON error format, and the errnos clients know from Kinto.

Every error response, from a view, from Pyramid itself or from a crash, has the
body ``{"code", "errno", "error", "message", "info"[, "details"]}``. Views raise
``http_error(...)``; they never format errors by hand.
"""

from __future__ import annotations

import enum
import json
from typing import Any, NoReturn

from pyramid import httpexceptions
from pyramid.httpexceptions import HTTPException

__all__ = [
    "ERRORS",
    "http_error",
    "invalid",
    "json_error_body",
    "json_error_handler",
    "raise_invalid",
    "request_GET",
    "send_alert",
]


class ERRORS(enum.IntEnum):
    """Error numbers (``errno``) clients act on; same numbers as Kinto's."""

    MISSING_AUTH_TOKEN = 104
    INVALID_AUTH_TOKEN = 105
    BADJSON = 106
    INVALID_PARAMETERS = 107
    MISSING_PARAMETERS = 108
    INVALID_POSTED_DATA = 109
    INVALID_RESOURCE_ID = 110
    MISSING_RESOURCE = 111
    MISSING_CONTENT_LENGTH = 112
    REQUEST_TOO_LARGE = 113
    MODIFIED_MEANWHILE = 114
    METHOD_NOT_ALLOWED = 115
    VERSION_NOT_AVAILABLE = 116
    CLIENT_REACHED_CAPACITY = 117
    FORBIDDEN = 121
    CONSTRAINT_VIOLATED = 122
    UNDEFINED = 999
    BACKEND = 201
    SERVICE_DEPRECATED = 202


#: The errno used when a status is raised without one.
DEFAULT_ERRNOS: dict[int, ERRORS] = {
    400: ERRORS.INVALID_PARAMETERS,
    401: ERRORS.MISSING_AUTH_TOKEN,
    403: ERRORS.FORBIDDEN,
    404: ERRORS.MISSING_RESOURCE,
    405: ERRORS.METHOD_NOT_ALLOWED,
    406: ERRORS.INVALID_PARAMETERS,
    409: ERRORS.CONSTRAINT_VIOLATED,
    410: ERRORS.SERVICE_DEPRECATED,
    411: ERRORS.MISSING_CONTENT_LENGTH,
    412: ERRORS.MODIFIED_MEANWHILE,
    413: ERRORS.REQUEST_TOO_LARGE,
    415: ERRORS.INVALID_PARAMETERS,
    429: ERRORS.CLIENT_REACHED_CAPACITY,
    500: ERRORS.UNDEFINED,
    503: ERRORS.BACKEND,
}

DEFAULT_INFO_LINK = "https://github.com/Kinto/kinto/issues/"


def json_error_body(
    code: int,
    errno: int,
    error: str,
    message: str | None = None,
    info: str | None = None,
    details: Any = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "errno": int(errno), "error": error}
    if message is not None:
        body["message"] = message
    if info is not None:
        body["info"] = info
    if details is not None:
        body["details"] = details
    return body


def http_error(
    httpexception: HTTPException,
    errno: int | None = None,
    code: int | None = None,
    error: str | None = None,
    message: str | None = None,
    info: str | None = None,
    details: Any = None,
) -> HTTPException:
    """Give ``httpexception`` the JSON error body and return it (to be raised).

    ``code`` defaults to the exception's status, ``error`` to its title,
    ``errno`` to the usual errno for the status, ``info`` (on 5xx only, as Kinto) to the
    ``error_info_link`` setting (filled in by the error views when missing).
    """
    code = code or httpexception.code
    errno = errno if errno is not None else DEFAULT_ERRNOS.get(code, ERRORS.UNDEFINED)
    body = json_error_body(
        code,
        errno,
        error or ("Invalid parameters" if code == 400 and errno == ERRORS.INVALID_PARAMETERS else httpexception.title),
        message if message is not None else (httpexception.detail or None),
        info,
        details,
    )
    httpexception.content_type = "application/json"
    httpexception.charset = "utf-8"
    httpexception.text = json.dumps(body)
    httpexception.kinto_error = body  # read back by the error views to complete ``info``
    return httpexception


def invalid(
    description: str,
    *,
    location: str | None = None,
    name: str | None = None,
    errno: int = ERRORS.INVALID_PARAMETERS,
    message: str | None = None,
    details: Any = None,
) -> HTTPException:
    """The 400 naming what is invalid in the request (to be raised); every 400 of ours is built here.

    With a ``location`` (``"body"``, ``"querystring"``, ``"header"``, ``"path"``), the message is
    Kinto's ``"<name> in <location>: <description>"`` (``"<location>: <description>"`` without a
    name) and ``details`` the one problem, ``[{"location", "name", "description"}]``. Without one,
    the request as a whole is at fault: the message is the description, with no details. ``message``
    and ``details`` replace these (several problems: all in ``details``, the message naming one).
    """
    if location is not None:
        if message is None:
            message = problem_message(location, name, description)
        if details is None:
            details = [{"location": location, "name": name, "description": description}]
    return http_error(
        httpexceptions.HTTPBadRequest(),
        errno=errno,
        message=description if message is None else message,
        details=details,
    )


def problem_message(location: str, name: str | None, description: str) -> str:
    """Kinto's wording of one invalid part: ``"data.title in body: ..."``, or ``"body: ..."`` without a name."""
    return f"{name} in {location}: {description}" if name else f"{location}: {description}"


def raise_invalid(
    request: Any,
    location: str = "body",
    name: str | None = None,
    description: Any = None,
    errno: int = ERRORS.INVALID_PARAMETERS,
    **kwargs: Any,
) -> NoReturn:
    """Kinto's name for raising ``invalid(...)`` (``request`` is not needed)."""
    raise invalid(description, location=location, name=name, errno=errno, **kwargs)


def send_alert(request: Any, message: str | None = None, url: str | None = None, code: str = "soft-eol") -> None:
    """Set the ``Alert`` response header (deprecation notices) for this request."""
    settings = request.registry.settings
    alert = {
        "code": code,
        "message": message or settings["eos_message"],
        "url": url or settings["eos_url"] or settings["project_docs"],
    }
    request.response.headers["Alert"] = json.dumps(alert, separators=(",", ":"))  # compact, as Kinto's


def request_GET(request: Any) -> Any:
    """The querystring, with a 400 instead of a crash on undecodable bytes."""
    try:
        return request.GET
    except UnicodeDecodeError:
        raise invalid("Querystring is not valid UTF-8") from None


def _text(value: Any) -> Any:
    # Cornice builds some descriptions as bytes.
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def json_error_handler(request: Any) -> httpexceptions.HTTPException:
    """Turn Cornice's collected validation errors into the core's 400 error."""
    errors = [{key: _text(value) for key, value in error.items()} for error in request.errors]
    status = getattr(request.errors, "status", 400) or 400
    first = errors[0] if errors else {}
    name = first.get("name")
    location = first.get("location", "body")
    description = first.get("description", "Invalid request")
    message = problem_message(location, name, description)
    errno = ERRORS.INVALID_PARAMETERS  # Kinto answers every validation error with 107
    if name == "Content-Type" or status == 415:
        return http_error(httpexceptions.HTTPUnsupportedMediaType(), message=message, details=errors)
    exception = httpexceptions.status_map.get(status, httpexceptions.HTTPBadRequest)()
    return http_error(exception, errno=errno, message=message, details=errors)
