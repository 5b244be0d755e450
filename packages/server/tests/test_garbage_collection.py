"""The garbage collector's policy of a serving process (``kinto.server.wsgi.load_app``).

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
import gc, json
from kinto.server.wsgi import load_app

storage = load_app().registry.storage
with storage.transaction():
    for index in range({RECORDS}):
        record = {{"id": f"r{{index}}", "tags": ["a", index], "nested": {{"levels": [index]}}}}
        storage.create("record", "/buckets/b/collections/c", record)
gc.collect()
print(json.dumps({{"visited": len(gc.get_objects()), "frozen": gc.get_freeze_count()}}))
"""


def run_worker(tmp_path, *settings: str) -> dict[str, int]:
    ini = tmp_path / "kinto.ini"
    lines = [
        "[app:main]",
        "multiauth.policies = basicauth",
        f"kinto.userid_hmac_secret = {SECRET}",
        *(f"kinto.{kind}_backend = kinto.core.{kind}.memory" for kind in ("storage", "permission", "cache")),
        *settings,
    ]
    ini.write_text("\n".join(lines) + "\n")
    env = {**os.environ, "KINTO_INI": str(ini)}
    env.pop("KINTO_GC_FREEZE", None)
    done = subprocess.run(
        [sys.executable, "-c", WORKER], env=env, capture_output=True, text=True, timeout=300, check=False
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
