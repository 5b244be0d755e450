"""``kinto.core.Service``: a Cornice service with the core's defaults."""

from __future__ import annotations

from typing import Any

from cornice import Service as CorniceService
from pyramid import httpexceptions

from kinto.core.errors import ERRORS, http_error

__all__ = ["Service", "json_error_handler"]


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
    message = f"{name} in {location}: {description}" if name else str(description)
    errno = ERRORS.INVALID_PARAMETERS  # Kinto answers every validation error with 107
    if name == "Content-Type" or status == 415:
        return http_error(httpexceptions.HTTPUnsupportedMediaType(), message=message, details=errors)
    exception = httpexceptions.status_map.get(status, httpexceptions.HTTPBadRequest)()
    return http_error(exception, errno=errno, message=message, details=errors)


class Service(CorniceService):
    """A Cornice service whose errors use the core's JSON format.

    CORS is handled by the core for every response, so Cornice's own CORS
    machinery is off by default.
    """

    default_error_handler = staticmethod(json_error_handler)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("error_handler", json_error_handler)
        kwargs.setdefault("cors_enabled", False)
        kwargs["depth"] = kwargs.get("depth", 1) + 1  # venusian must see the caller's module, not ours
        super().__init__(*args, **kwargs)
