"""The garbage collector's policy of a serving process (``kinto.server.wsgi.load_app``, or a paste loader).

Each case runs in a process of its own: the policy changes the collector of the process it runs in.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from kinto.server.garbage_collection import FREEZE_SURVIVORS

from .conftest import SECRET

RECORDS = 20_000  # four containers each (the record, its list, its nested dict and list): past FREEZE_SURVIVORS

# Fills the memory backend of the application a server worker builds, as requests would, then reports how many
# objects a full collection visits (the tracked ones; frozen ones are not visited).
WORKER = f"""
import gc, json, os, sys
if sys.argv[1] == "paste":  # as uWSGI's `paste = config:...`, `gunicorn --paste` or pserve build it
    from pyramid.paster import get_app
    app = get_app(os.environ["KINTO_INI"], "main")
elif sys.argv[1] == "settings":  # as tests and embedding code build it
    from kinto.server import main
    from kinto.server.wsgi import settings_from_environment
    app = main({{}}, **settings_from_environment())
else:
    from kinto.server.wsgi import load_app
    app = load_app()

storage = app.registry.storage
with storage.transaction():
    for index in range({RECORDS}):
        record = {{"id": f"r{{index}}", "tags": ["a", index], "nested": {{"levels": [index]}}}}
        storage.create("record", "/buckets/b/collections/c", record)
gc.collect()
print(json.dumps({{"visited": len(gc.get_objects()), "frozen": gc.get_freeze_count()}}))
"""


def run_worker(tmp_path, *settings: str, loader: str = "kinto start") -> dict[str, int]:
    ini = tmp_path / "kinto.ini"
    lines = [
        "[app:main]",
        "use = egg:kinto-server",
        "multiauth.policies = basicauth",
        f"kinto.userid_hmac_secret = {SECRET}",
        *(f"kinto.{kind}_backend = kinto.core.{kind}.memory" for kind in ("storage", "permission", "cache")),
        *settings,
    ]
    ini.write_text("\n".join(lines) + "\n")
    env = {**os.environ, "KINTO_INI": str(ini)}
    env.pop("KINTO_GC_FREEZE", None)
    done = subprocess.run(
        [sys.executable, "-c", WORKER, loader], env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_full_collections_do_not_visit_what_the_memory_backend_holds(tmp_path):
    counts = run_worker(tmp_path)
    assert counts["visited"] < FREEZE_SURVIVORS
    assert counts["frozen"] > 4 * RECORDS


def test_gc_freeze_false_leaves_the_collector_as_cpython_sets_it(tmp_path):
    counts = run_worker(tmp_path, "kinto.gc_freeze = false")
    assert counts["frozen"] == 0
    assert counts["visited"] > 4 * RECORDS


def test_an_application_a_paste_loader_builds_from_an_ini_gets_the_policy(tmp_path):
    counts = run_worker(tmp_path, loader="paste")
    assert counts["visited"] < FREEZE_SURVIVORS
    assert counts["frozen"] > 4 * RECORDS


def test_an_application_built_from_settings_keeps_the_collectors_defaults(tmp_path):
    counts = run_worker(tmp_path, loader="settings")
    assert counts["frozen"] == 0
    assert counts["visited"] > 4 * RECORDS


def test_gc_freeze_false_applies_to_paste_loaders_too(tmp_path):
    counts = run_worker(tmp_path, "kinto.gc_freeze = false", loader="paste")
    assert counts["frozen"] == 0
