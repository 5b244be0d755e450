"""``GET /v1/__api__``: a valid OpenAPI 3.1 document, describing what the app answers."""

import re

import jsonschema
import pytest
from openapi_spec_validator import validate

from kinto.core import Service
from kinto.core.testing import basic_auth_header, make_app

from . import resources_for_openapi

ALICE = basic_auth_header("alice", "secret")

plugin_service = Service(name="plugin_flush", path="/plugin/{bucket_id}/flush", description="A plugin's service")


@plugin_service.post()
def flush(request):
    return {"flushed": request.matchdict["bucket_id"]}


def _include(config):
    config.scan(resources_for_openapi.__name__)
    config.add_cornice_service(plugin_service)


@pytest.fixture(scope="module")
def app():
    return make_app({"multiauth.policies": "basicauth", "userid_hmac_secret": "openapi-tests"}, [_include])


@pytest.fixture(scope="module")
def document(app):
    return app.get("/v1/__api__").json


def test_the_document_is_valid_openapi(document):
    validate(document)
    assert document["openapi"] == "3.1.0"
    assert document["info"]["title"] == "testapp"


def test_servers_point_at_the_version_prefix(document):
    assert document["servers"] == [{"url": "http://localhost/v1"}]


def test_resources_have_their_endpoints_and_methods(document):
    paths = document["paths"]
    assert set(paths["/articles"]) == {"get", "head", "post", "delete"}
    assert set(paths["/articles/{id}"]) == {"get", "head", "put", "patch", "delete"}
    # Tag restricts its methods at registration.
    assert set(paths["/tags"]) == {"get", "post"}
    assert set(paths["/tags/{id}"]) == {"get"}
    # Custom paths given to register() are the ones documented.
    assert "/mynotes/{id}" in paths and "/notes" not in paths


def test_list_parameters_are_documented(document):
    names = {parameter["name"] for parameter in document["paths"]["/articles"]["get"]["parameters"]}
    assert {"_limit", "_sort", "_token", "_since", "_before", "_fields"} <= names


def test_resource_schemas_are_published(document):
    body = document["paths"]["/articles"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["properties"]["data"]["properties"]["title"] == {"type": "string", "maxLength": 200}
    assert "permissions" in body["properties"]
    tags = document["paths"]["/tags"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert tags["properties"]["data"]["additionalProperties"] is False
    assert "permissions" not in tags["properties"]  # Tag is not shareable


def test_core_and_plugin_services_are_listed(document):
    paths = document["paths"]
    assert "post" in paths["/batch"]
    assert set(paths["/__heartbeat__"]) >= {"get"}
    assert paths["/plugin/{bucket_id}/flush"]["post"]["parameters"][0]["name"] == "bucket_id"


def test_basic_auth_is_declared(document):
    assert document["components"]["securitySchemes"]["basicAuth"] == {"type": "http", "scheme": "basic"}


def _response_schema(document, path, method, status):
    response = document["paths"][path][method]["responses"][str(status)]
    schema = response["content"]["application/json"]["schema"]
    if schema.get("$ref"):
        return document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def test_answers_follow_the_documented_schemas(app, document):
    """The document drives the requests: each answer has a documented status and matches its schema."""
    created = app.post_json("/v1/articles", {"data": {"title": "documented"}}, headers=ALICE)
    jsonschema.validate(created.json, _response_schema(document, "/articles", "post", created.status_int))
    object_id = created.json["data"]["id"]

    listing = app.get("/v1/articles", headers=ALICE)
    jsonschema.validate(listing.json, _response_schema(document, "/articles", "get", 200))

    fetched = app.get(f"/v1/articles/{object_id}", headers=ALICE)
    jsonschema.validate(fetched.json, _response_schema(document, "/articles/{id}", "get", 200))

    invalid = app.post_json("/v1/articles", {"data": {"title": 3}}, headers=ALICE, status=400)
    jsonschema.validate(invalid.json, _response_schema(document, "/articles", "post", 400))

    batch = app.post_json("/v1/batch", {"requests": [{"path": "/articles"}]}, headers=ALICE)
    jsonschema.validate(batch.json, _response_schema(document, "/batch", "post", 200))

    # The schema rejects what the server rejects.
    post_schema = document["paths"]["/articles"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"data": {"title": 3}}, post_schema)


def test_every_documented_parameterless_get_answers_a_documented_status(app, document):
    for path, operations in document["paths"].items():
        if "{" in path or "get" not in operations:
            continue
        response = app.get("/v1" + path, headers=ALICE, status="*")
        assert str(response.status_int) in operations["get"]["responses"], path


def _parameter(document, path, method, name):
    return next(p for p in document["paths"][path][method]["parameters"] if p["name"] == name)


def test_a_limit_of_zero_is_documented_as_the_server_takes_it(app, document):
    # As Kinto: _limit=0 is the server's page size, not an error.
    assert _parameter(document, "/articles", "get", "_limit")["schema"]["minimum"] == 0
    app.get("/v1/articles?_limit=0", headers=ALICE, status=200)


def test_path_ids_carry_the_pattern_the_resource_accepts(app, document):
    tag_id = _parameter(document, "/tags/{id}", "get", "id")["schema"]
    assert tag_id == {"type": "string", "pattern": resources_for_openapi.SlugGenerator.regexp}
    # An id outside the pattern is refused before any lookup, with a documented status.
    assert not re.search(tag_id["pattern"], "Not_A_Slug")
    response = app.get("/v1/tags/Not_A_Slug", headers=ALICE, status=400)
    assert "400" in document["paths"]["/tags/{id}"]["get"]["responses"]
    assert response.json["errno"] == 107


@pytest.mark.parametrize("value", ['"12"', '"12", "13"', "*", '"abc"', "12", 'W/"12"', '"-1"', ""])
def test_precondition_headers_are_documented_as_the_server_reads_them(app, document, value):
    pattern = _parameter(document, "/articles/{id}", "get", "If-Match")["schema"]["pattern"]
    created = app.post_json("/v1/articles", {"data": {"title": "etag"}}, headers=ALICE).json["data"]
    response = app.get(f"/v1/articles/{created['id']}", headers={**ALICE, "If-Match": value}, status="*")
    assert (response.status_int != 400) == bool(re.search(pattern, value)), response.text
    assert str(response.status_int) in document["paths"]["/articles/{id}"]["get"]["responses"]


@pytest.mark.parametrize("value", ["0", "-5", str(2**63 - 1), str(2**63), str(-(2**63) - 1)])
def test_timestamps_are_documented_with_the_range_the_server_accepts(app, document, value):
    schema = _parameter(document, "/articles", "get", "_since")["schema"]
    response = app.get(f"/v1/articles?_since={value}", headers=ALICE, status="*")
    documented_valid = schema["minimum"] <= int(value) <= schema["maximum"]
    assert (response.status_int == 200) == documented_valid, response.text


def test_only_the_permissions_a_resource_knows_are_documented(app, document):
    body = document["paths"]["/articles"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    unknown = {"data": {"title": "t"}, "permissions": {"delete": ["bob"]}}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(unknown, body)
    app.post_json("/v1/articles", unknown, headers=ALICE, status=400)
    jsonschema.validate({"data": {"title": "t"}, "permissions": {"read": ["bob"]}}, body)


MISSING_ID = "5f1ae5a0-0000-4000-8000-000000000000"


def test_an_unknown_object_is_answered_with_a_documented_status_on_every_method(app, document):
    operations = document["paths"]["/articles/{id}"]
    for method in ("get", "head", "patch", "delete"):
        response = app.request(f"/v1/articles/{MISSING_ID}", method=method.upper(), headers=ALICE, status="*")
        assert response.status_int in (403, 404)
        assert str(response.status_int) in operations[method]["responses"], method


def test_an_empty_id_redirects_reads_as_documented(app, document):
    for method in ("get", "head"):
        response = app.request("/v1/articles/", method=method.upper(), headers=ALICE, status="*")
        assert response.status_int == 307
        assert response.headers["Location"].endswith("/v1/articles")
        assert "307" in document["paths"]["/articles/{id}"][method]["responses"], method
