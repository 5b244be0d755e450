"""Every error answers in the one JSON format, with the errno clients know."""

import pytest
from cornice import Service as PlainCorniceService
from pyramid import httpexceptions

from kinto.core import Service
from kinto.core.errors import ERRORS, http_error
from kinto.core.storage.exceptions import BackendError
from kinto.core.testing import basic_auth_header, make_app

crash = Service(name="crash", path="/crash")
backend_down = Service(name="backend-down", path="/backend-down")
raiser = Service(name="raiser", path="/raise/{status}")
echo = Service(name="echo", path="/echo")
typed = Service(name="typed", path="/typed")
guarded = Service(name="guarded", path="/guarded", factory=lambda request: Context(request))
plain = PlainCorniceService(name="plain", path="/plain")


class Context:
    def __init__(self, request):
        self.request = request

    def check_permission(self, principals, permission):
        return (
            "system.Authenticated" in principals
            and permission == "read"
            and "basicauth:" in "".join(principals)
            and self.request.headers.get("X-Allow") == "yes"
        )


@crash.get()
def crash_view(request):
    raise RuntimeError("secret internals")


@backend_down.get()
def backend_down_view(request):
    raise BackendError(ConnectionError("db unreachable"))


@raiser.get()
def raise_view(request):
    status = int(request.matchdict["status"])
    raise http_error(httpexceptions.status_map[status](), message=f"raised {status}")


@echo.post()
def echo_view(request):
    return {"got": request.json_body}


@typed.post(content_type="application/json", accept="application/json")
def typed_view(request):
    return {}


@guarded.get(permission="read")
def guarded_view(request):
    return {"ok": True}


@plain.post()
def plain_view(request):
    request.errors.add("body", "title", "title is required")
    return {}


def include(config):
    config.scan(__name__)


@pytest.fixture
def app():
    return make_app({"multiauth.policies": "basicauth"}, [include])


def assert_error(response, code, errno):
    body = response.json
    assert response.content_type == "application/json"
    assert body["code"] == code
    assert body["errno"] == errno
    assert isinstance(body["error"], str) and body["error"]
    assert isinstance(body["message"], str)
    if code >= 500:
        assert body["info"] == "https://github.com/Kinto/kinto/issues/"
    else:  # Kinto links its issue tracker from server errors only
        assert "info" not in body
    return body


def test_unhandled_exception_is_a_500_without_traceback(app):
    response = app.get("/v1/crash", status=500)
    body = assert_error(response, 500, ERRORS.UNDEFINED)
    assert "secret internals" not in response.text
    assert "Traceback" not in response.text
    assert body["error"] == "Internal Server Error"


def test_backend_error_is_a_503_with_retry_after(app):
    response = app.get("/v1/backend-down", status=503)
    assert_error(response, 503, ERRORS.BACKEND)
    assert response.headers["Retry-After"] == "30"


def test_retry_after_follows_the_setting():
    app = make_app({"retry_after_seconds": "7"}, [include])
    assert app.get("/v1/backend-down", status=503).headers["Retry-After"] == "7"


@pytest.mark.parametrize(
    ("status", "errno"),
    [
        (400, 107),
        (401, 104),
        (403, 121),
        (404, 111),
        (405, 115),
        (406, 107),
        (409, 122),
        (412, 114),
        (413, 113),
        (415, 107),
        (429, 117),
        (500, 999),
        (503, 201),
    ],
)
def test_raised_http_errors_keep_the_format(app, status, errno):
    response = app.get(f"/v1/raise/{status}", status=status)
    body = assert_error(response, status, errno)
    assert body["message"] == f"raised {status}"


def test_429_and_503_carry_retry_after(app):
    assert app.get("/v1/raise/429", status=429).headers["Retry-After"] == "30"


def test_not_found(app):
    assert_error(app.get("/v1/nowhere", status=404), 404, ERRORS.MISSING_RESOURCE)


def test_method_not_allowed(app):
    body = assert_error(app.delete("/v1/crash", status=405), 405, ERRORS.METHOD_NOT_ALLOWED)
    assert "DELETE" in body["message"]


def test_invalid_json_is_a_400_errno_107_as_kinto(app):
    response = app.post("/v1/echo", "{not json", headers={"Content-Type": "application/json"}, status=400)
    body = assert_error(response, 400, ERRORS.INVALID_PARAMETERS)
    assert body["details"][0]["location"] == "body"
    assert body["details"][0]["description"].startswith("Invalid JSON")


def test_deeply_nested_json_is_a_400_not_a_500(app):
    nested = "[" * 10000 + "]" * 10000
    response = app.post("/v1/echo", nested, headers={"Content-Type": "application/json"}, status=400)
    assert_error(response, 400, ERRORS.INVALID_PARAMETERS)


def test_unsupported_media_type_is_a_415(app):
    response = app.post("/v1/typed", "a=b", headers={"Content-Type": "text/plain"}, status=415)
    assert_error(response, 415, ERRORS.INVALID_PARAMETERS)


def test_not_acceptable_is_a_406(app):
    response = app.post_json("/v1/typed", {}, headers={"Accept": "text/html"}, status=406)
    assert_error(response, 406, ERRORS.INVALID_PARAMETERS)


def test_request_body_too_large_is_a_413():
    app = make_app({"max_request_body_bytes": "100"}, [include])
    response = app.post_json("/v1/echo", {"x": "a" * 500}, status=413)
    assert_error(response, 413, ERRORS.REQUEST_TOO_LARGE)


def test_anonymous_on_a_protected_view_is_a_401_with_challenge(app):
    response = app.get("/v1/guarded", status=401)
    assert_error(response, 401, ERRORS.MISSING_AUTH_TOKEN)
    assert response.headers["WWW-Authenticate"] == 'Basic realm="Realm"'


def test_authenticated_but_not_allowed_is_a_403(app):
    response = app.get("/v1/guarded", headers=basic_auth_header(), status=403)
    assert_error(response, 403, ERRORS.FORBIDDEN)
    ok = app.get("/v1/guarded", headers={**basic_auth_header(), "X-Allow": "yes"})
    assert ok.json == {"ok": True}


def test_plain_cornice_validation_errors_are_reformatted(app):
    response = app.post_json("/v1/plain", {}, status=400)
    body = assert_error(response, 400, ERRORS.INVALID_PARAMETERS)
    assert body["details"][0]["name"] == "title"
    assert "title is required" in body["message"]


def test_error_info_link_follows_the_setting():
    app = make_app({"error_info_link": "https://help.example"}, [include])
    assert app.get("/v1/crash", status=500).json["info"] == "https://help.example"
    assert "info" not in app.get("/v1/nowhere", status=404).json
