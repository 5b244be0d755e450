"""schemathesis against ``/v1/__api__`` of a live ``kinto start``: no request, however odd, gets a 5xx.

The server is the real command on its embedded SQLite default, reached over
HTTP with Basic Auth. schemathesis reads the OpenAPI document the server
serves and, for every operation, sends the document's examples, its coverage
cases (boundaries, missing and malformed parameters) and fuzzed requests, valid
and invalid. Path ids are mostly the objects seeded below (a bucket, a
collection with a JSON schema, a group and a record all named ``fuzz``), so
that requests get past the 403 an unknown bucket answers and reach validation,
storage and permissions; the rest are generated. A second test chains requests
through the links schemathesis infers (create, then read, change or delete what
was created). Every answer is also checked against the document (status,
content type, headers, body schema): the document is what clients and their
generators read. The run is derandomized with a fixed seed: CI replays the same
requests.

``KINTO_SCHEMATHESIS_EXAMPLES`` raises the number of fuzzed examples per
operation (and of chained scenarios) and ``KINTO_SCHEMATHESIS_SEED`` changes the
seed, for a longer local hunt; the defaults keep the module around a minute on
two cores.
"""

from __future__ import annotations

import base64
import json
import os
import urllib.request
from collections.abc import Iterator
from typing import Any

import hypothesis
import pytest

from kinto.server.testing import LiveServer

schemathesis = pytest.importorskip("schemathesis", reason="nox -s security installs schemathesis")
from schemathesis.checks import not_a_server_error  # noqa: E402 -- only once schemathesis is known to be there
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

USER, PASSWORD = "alice", "secret"
SEED = int(os.environ.get("KINTO_SCHEMATHESIS_SEED", "20260"))
EXAMPLES = int(os.environ.get("KINTO_SCHEMATHESIS_EXAMPLES", "40"))
#: Sequences of linked requests (create, then read, change, delete what was created), and their length.
SCENARIOS, STEPS = EXAMPLES, 10
#: No 5xx, and every answer as the document says: status, content type, headers and body schema.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
SEEDED_ID = "fuzz"
SEEDED_OBJECTS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("/buckets/fuzz", {}),
    ("/buckets/fuzz/collections/fuzz", {"schema": {"type": "object", "properties": {"title": {"type": "string"}}}}),
    ("/buckets/fuzz/groups/fuzz", {"members": ["basicauth:someone"]}),
    ("/buckets/fuzz/collections/fuzz/records/fuzz", {"title": "seeded"}),
)


def _put(server: LiveServer, path: str, data: dict[str, Any]) -> None:
    credentials = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    request = urllib.request.Request(
        server.url + path,
        data=json.dumps({"data": data}).encode(),
        method="PUT",
        headers={"Authorization": f"Basic {credentials}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status in (200, 201)


def _seed(server: LiveServer) -> None:
    for path, data in SEEDED_OBJECTS:
        _put(server, path, data)


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = LiveServer(cwd=tmp_path_factory.mktemp("schemathesis")).start()
    try:
        _seed(server)
        yield server
    finally:
        server.stop()


def _config() -> Any:
    ids = {"dictionary": "seeded", "probability": 0.8}
    return schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "dictionaries": {"seeded": {"values": [SEEDED_ID]}},
            "parameters": {"path.bucket_id": ids, "path.collection_id": ids, "path.id": ids},
            "auth": {"basic": {"username": USER, "password": PASSWORD}},
            "generation": {"max-examples": EXAMPLES, "deterministic": True, "database": "none"},
            "suppress-health-check": ["all"],
            # Failures print the request as sent: ``_token`` values are no secret here, and replaying needs them.
            "output": {"sanitization": {"enabled": False}},
        }
    )


@pytest.fixture(scope="module")
def api_schema(live_server: LiveServer) -> Any:
    return schemathesis.openapi.from_url(f"{live_server.url}/__api__", config=_config())


@pytest.fixture(autouse=True)
def _node_id_for_schemathesis(request: pytest.FixtureRequest) -> None:
    """schemathesis 4.32 renames each operation's subtest through ``item._nodeid``, which pytest 9.2 no longer has."""
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
def test_no_request_gets_a_server_error(case: Any, live_server: LiveServer) -> None:
    case.call_and_validate(checks=CHECKS)
    if case.method.upper() == "DELETE":
        _seed(live_server)  # a deleted bucket would leave every later request a 403


def test_sequences_of_linked_requests_get_no_server_error(api_schema: Any) -> None:
    """Requests that use what earlier ones created (the document's inferred links), as users chain them."""

    class Scenarios(api_schema.as_state_machine()):  # type: ignore[misc]
        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            case.validate_response(response, checks=CHECKS, transport_kwargs=kwargs or None)

    Scenarios.run(
        settings=hypothesis.settings(
            max_examples=SCENARIOS,
            stateful_step_count=STEPS,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(hypothesis.HealthCheck),
        )
    )
