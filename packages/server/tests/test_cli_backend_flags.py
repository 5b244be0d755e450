"""``kinto start``, ``migrate`` and the other commands decide by the flags a backend declares
(``embedded``, ``supports_concurrent_processes``), so a third party's backend gets the same
treatment as ours: these tests use a storage of their own, in a module written beside the ini."""

from __future__ import annotations

import os
import textwrap

import pytest

from kinto.server.testing import LiveServer, run_kinto

THIRD_PARTY_MODULE = '''
"""A third party's storage: in memory, with tables that initialize_schema creates (a marker file)."""
import pathlib

from kinto.core.storage import memory
from kinto.core.storage.exceptions import BackendError

TABLES = pathlib.Path(__file__).with_name("tables-created")


class Storage(memory.Storage):
    embedded = {embedded}
    supports_concurrent_processes = {shared}

    def initialize_schema(self, dry_run=False):
        if not dry_run:
            TABLES.touch()

    def count_all(self, *args, **kwargs):
        if not TABLES.exists():
            raise BackendError(message="no such table: objects")
        return super().count_all(*args, **kwargs)


def load_from_config(config):
    return Storage()
'''

INI = """\
[app:main]
kinto.storage_backend = third_party_storage
kinto.permission_backend = kinto.core.permission.sqlite
kinto.permission_url = sqlite:///%(here)s/kinto.sqlite
kinto.cache_backend = kinto.core.cache.sqlite
kinto.cache_url = sqlite:///%(here)s/cache.sqlite
kinto.userid_hmac_secret = 4d1d8e1b
multiauth.policies = basicauth
"""


def third_party_setup(folder, *, embedded, shared):
    (folder / "third_party_storage.py").write_text(
        textwrap.dedent(THIRD_PARTY_MODULE).format(embedded=embedded, shared=shared)
    )
    (folder / "kinto.ini").write_text(INI)
    return {"PYTHONPATH": os.pathsep.join(filter(None, [str(folder), os.environ.get("PYTHONPATH")]))}


def test_kinto_start_creates_the_tables_of_a_backend_declaring_itself_embedded(tmp_path):
    env = third_party_setup(tmp_path, embedded=True, shared=True)
    result = run_kinto("purge-deleted", "--ini", "kinto.ini", "record", "0", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "tables-created").exists()


def test_a_backend_not_declaring_itself_embedded_needs_kinto_migrate(tmp_path):
    env = third_party_setup(tmp_path, embedded=False, shared=True)
    result = run_kinto("purge-deleted", "--ini", "kinto.ini", "record", "0", cwd=tmp_path, env=env)
    assert result.returncode == 1
    assert "no such table: objects (a new database needs its tables: kinto migrate --ini" in result.stderr
    assert not (tmp_path / "tables-created").exists()
    assert run_kinto("migrate", "--ini", "kinto.ini", cwd=tmp_path, env=env).returncode == 0
    result = run_kinto("purge-deleted", "--ini", "kinto.ini", "record", "0", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(("shared", "workers"), [(True, 2), (False, 1)])
def test_kinto_start_serves_with_one_worker_when_a_backend_cannot_be_shared(tmp_path, shared, workers):
    env = third_party_setup(tmp_path, embedded=True, shared=shared)
    with LiveServer(ini="kinto.ini", cwd=tmp_path, args=["--workers", "2"], env=env) as server:
        output = server.output
    assert f"{workers} worker(s)" in output
    unshared = "kinto.storage_backend = third_party_storage): serving with 1 worker, not 2"
    assert (unshared in output) is not shared
