"""Backends written against Kinto 26.5.0's contracts only (``kinto_shaped/``) pass
``kinto-conformance`` and serve an application; the suites skip our extensions for them."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kinto.core import resource
from kinto.core.testing import basic_auth_header, make_app
from kinto.core.testing.metrics import RecordingMetricsService

HERE = Path(__file__).parent


def conformance(*arguments):
    environment = {key: value for key, value in os.environ.items() if not key.startswith("KINTO_")}
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE), environment.get("PYTHONPATH")]))
    command = [sys.executable, "-c", "import sys; from kinto.core.testing.conformance import main; sys.exit(main())"]
    return subprocess.run(
        [*command, *arguments], capture_output=True, text=True, env=environment, timeout=900, check=False
    )


@pytest.mark.parametrize("kind", ["cache", "storage", "permission"])
def test_a_kinto_shaped_backend_passes_kinto_conformance(kind):
    result = conformance(f"kinto_shaped.{kind}")
    assert result.returncode == 0, result.stdout + result.stderr
    assert " 0 failed" in result.stdout


def test_the_cache_suite_asks_no_set_without_ttl_of_a_backend_that_does_not_declare_it():
    result = conformance("kinto_shaped.cache", "-k", "ttl")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SKIPPED test_ttl_of_a_key_without_expiry_is_minus_one" in result.stdout
    assert "declares supports_set_without_ttl = False" in result.stdout


@resource.register(name="note", collection_path="/notes", record_path="/notes/{{id}}")
class Note(resource.UserResource):
    pass


def include_notes(config):
    config.scan(__name__)


SETTINGS = {
    "cache_backend": "kinto_shaped.cache",
    "storage_backend": "kinto_shaped.storage",
    "permission_backend": "kinto_shaped.permission",
    "multiauth.policies": "basicauth",
}


def test_an_application_runs_on_kinto_shaped_backends():
    app = make_app(SETTINGS, [include_notes])
    alice = basic_auth_header("alice")
    assert app.get("/v1/__heartbeat__").json == {"storage": True, "permission": True, "cache": True}
    created = app.post_json("/v1/notes", {"data": {"text": "hi"}}, headers=alice, status=201).json["data"]
    app.patch_json(f"/v1/notes/{created['id']}", {"data": {"text": "ho"}}, headers=alice)
    listed = app.get("/v1/notes", headers=alice).json["data"]
    assert [note["text"] for note in listed] == ["ho"]
    app.delete(f"/v1/notes/{created['id']}", headers=alice)
    assert app.get("/v1/notes", headers=alice).json["data"] == []


def test_a_kinto_shaped_cache_reports_hits_and_misses_through_metrics_backend():
    service = RecordingMetricsService()
    cache = make_app(SETTINGS, [include_notes, service.include]).app.registry.cache
    cache.get("missing")
    cache.set("key", "value", 60)
    assert cache.get("key") == "value"
    assert (service.counted("cache_hits"), service.counted("cache_misses")) == (1, 1)
