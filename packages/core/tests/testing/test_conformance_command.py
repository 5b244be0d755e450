"""``kinto-conformance`` against throwaway third-party packages written in tmp_path, in subprocesses."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

GOOD_CACHE = '''
"""A dict-based cache written by a third party, as the documentation shows."""
import json
import time

from kinto.core.cache import CacheBase


class DictCache(CacheBase):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.store = {}

    def flush(self):
        for key in [key for key in self.store if key.startswith(self.prefix)]:
            del self.store[key]

    def _live(self, key):
        item = self.store.get(self.prefix + key)
        if item is None:
            return None
        if item[1] is not None and item[1] <= time.time():
            del self.store[self.prefix + key]
            return None
        return item

    def ttl(self, key):
        item = self._live(key)
        if item is None or item[1] is None:
            return -1
        return item[1] - time.time()

    def expire(self, key, ttl):
        item = self._live(key)
        if item is not None:
            self.store[self.prefix + key] = (item[0], time.time() + ttl)
            self._live(key)

    def set(self, key, value, ttl=None):
        if "\\x00" in key:
            raise ValueError("NUL in key")
        try:
            text = json.dumps(value, allow_nan=False)
        except ValueError as error:
            raise TypeError(str(error)) from error
        self.store[self.prefix + key] = (text, None if ttl is None else time.time() + ttl)
        self._live(key)

    def get(self, key):
        item = self._live(key)
        return None if item is None else json.loads(item[0])

    def delete(self, key):
        item = self._live(key)
        self.store.pop(self.prefix + key, None)
        return None if item is None else json.loads(item[0])


def load_from_config(config):
    settings = config.get_settings()
    return DictCache(cache_prefix=settings.get("cache_prefix", ""))
'''

EXPIRED_CACHE = """
from thirdparty.good_cache import DictCache


class ForgetfulCache(DictCache):
    # Broken on purpose: expiry times are stored but never checked.
    def _live(self, key):
        return self.store.get(self.prefix + key)


def load_from_config(config):
    return ForgetfulCache(cache_prefix=config.get_settings().get("cache_prefix", ""))
"""

STORAGE = """
from kinto.core.storage import memory


class Storage(memory.Storage):
    pass


def load_from_config(config):
    return Storage()
"""

PURGING_STORAGE = """
from kinto.core.storage import memory


class Storage(memory.Storage):
    # Broken on purpose, like Kinto's old PostgreSQL purge: live objects go too.
    def purge_deleted(self, resource_name, parent_id, *args, **kwargs):
        purged = super().purge_deleted(resource_name, parent_id, *args, **kwargs)
        if resource_name is not None:
            self.delete_all(resource_name, parent_id, with_deleted=False)
        return purged


def load_from_config(config):
    return Storage()
"""

RENDERERS = """
import json

from kinto.core.logs import Renderer


class LineRenderer(Renderer):
    def __call__(self, logger, method_name, event_dict):
        return " ".join(f"{key}={value!r:.200}" for key, value in event_dict.items() if isinstance(key, str))


class MutatingRenderer(Renderer):
    # Broken on purpose: it pops the fields it renders from the caller's dict.
    def __call__(self, logger, method_name, event_dict):
        event = event_dict.pop("event", "")
        return f"{event!r:.200}"
"""

MISC = """
from kinto.core.storage.exceptions import BackendError


def load_from_config(config):
    raise BackendError(message="connection refused")
"""

NOT_A_BACKEND = """
def load_from_config(config):
    return {"i am": "a dict"}
"""

NO_LOADER = """
VALUE = 1
"""


@pytest.fixture(scope="module")
def thirdparty(tmp_path_factory):
    root = tmp_path_factory.mktemp("site")
    package = root / "thirdparty"
    package.mkdir()
    modules = {
        "__init__": "",
        "good_cache": GOOD_CACHE,
        "expired_cache": EXPIRED_CACHE,
        "good_storage": STORAGE,
        "purging_storage": PURGING_STORAGE,
        "renderers": RENDERERS,
        "unreachable": MISC,
        "not_a_backend": NOT_A_BACKEND,
        "no_loader": NO_LOADER,
    }
    for name, source in modules.items():
        (package / f"{name}.py").write_text(textwrap.dedent(source), encoding="utf-8")
    return root


def conformance(site: Path, *arguments: str) -> subprocess.CompletedProcess:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("KINTO_")}
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), environment.get("PYTHONPATH")]))
    command = [sys.executable, "-c", "import sys; from kinto.core.testing.conformance import main; sys.exit(main())"]
    return subprocess.run(
        [*command, *arguments], capture_output=True, text=True, env=environment, cwd=site, timeout=600, check=False
    )


def test_a_third_party_cache_passes_and_gets_a_report(thirdparty):
    result = conformance(thirdparty, "thirdparty.good_cache", "--setting", "kinto.cache_prefix=conformance:")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "cache backend thirdparty.good_cache against CacheContract" in result.stdout
    assert "PASS:" in result.stdout
    assert "0 failed" in result.stdout
    assert "declares supports_delete_prefix = False" in result.stdout


def test_a_cache_returning_expired_keys_fails_naming_the_behaviour(thirdparty):
    result = conformance(thirdparty, "thirdparty.expired_cache")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAIL:" in result.stdout
    assert "FAILED test_expired_keys_are_never_returned" in result.stdout
    assert "expired keys are never returned" in result.stdout
    assert "a ttl of zero is never returned" in result.stdout
    # The failure says what was wrong, not just that something was.
    assert "assert 'value' is None" in result.stdout


def test_a_third_party_storage_passes(thirdparty):
    result = conformance(thirdparty, "thirdparty.good_storage")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "storage backend thirdparty.good_storage against StorageContract" in result.stdout


def test_a_storage_purging_live_objects_fails(thirdparty):
    result = conformance(thirdparty, "thirdparty.purging_storage", "-k", "purge")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAILED test_" in result.stdout
    assert "purge" in result.stdout


def test_a_third_party_renderer_passes(thirdparty):
    result = conformance(thirdparty, "thirdparty.renderers.LineRenderer")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "renderer thirdparty.renderers.LineRenderer against RendererContract" in result.stdout


def test_a_renderer_mutating_the_event_fails(thirdparty):
    result = conformance(thirdparty, "thirdparty.renderers:MutatingRenderer", "--kind", "renderer")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "the callers event dict is not changed" in result.stdout


def test_entry_point_short_names_need_a_kind_when_ambiguous(thirdparty):
    result = conformance(thirdparty, "memory")
    assert result.returncode == 2
    assert "pass --kind" in result.stderr


def test_an_entry_point_short_name_with_its_kind_runs(thirdparty):
    result = conformance(thirdparty, "memory", "--kind", "permission", "-k", "accessible")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "permission backend kinto.core.permission.memory" in result.stdout


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["thirdparty.missing"], "no module named 'thirdparty.missing'"),
        (["thirdparty.no_loader"], "thirdparty.no_loader has no load_from_config(config)"),
        (["thirdparty.not_a_backend"], "returned dict, which implements none of"),
        (["thirdparty.good_cache", "--kind", "permission"], "builds a cache backend, not a permission one"),
        (["thirdparty.good_cache", "--setting", "no-equal-sign"], "expected key=value"),
        (["thirdparty.good_cache", "--kind", "search"], "invalid choice"),
        ([], "the following arguments are required: target"),
    ],
)
def test_usage_errors_exit_with_two(thirdparty, arguments, message):
    result = conformance(thirdparty, *arguments)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr


def test_an_unreachable_backend_fails_with_its_masked_url(thirdparty):
    url = "postgresql://kinto:s3cret@127.0.0.1:1/kinto"
    result = conformance(thirdparty, "thirdparty.unreachable", "--setting", f"kinto.cache_url={url}")
    assert result.returncode == 1
    assert "connection refused" in result.stdout
    assert "postgresql://kinto:***@127.0.0.1:1/kinto" in result.stdout
    assert "s3cret" not in result.stdout + result.stderr


def test_the_installed_script_is_the_command():
    script = Path(sys.executable).with_name("kinto-conformance")
    if not script.exists():
        pytest.skip("kinto-conformance is not installed beside this interpreter")
    result = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0
    assert "kinto-conformance" in result.stdout


def test_the_plugin_runs_a_third_party_contract_class(thirdparty, tmp_path):
    (tmp_path / "test_mine.py").write_text(
        "from kinto.core.testing.cache import CacheContract\n\n\nclass TestMine(CacheContract):\n    pass\n",
        encoding="utf-8",
    )
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    environment = {key: value for key, value in os.environ.items() if not key.startswith("KINTO_")}
    environment["PYTHONPATH"] = str(thirdparty)
    command = [sys.executable, "-m", "pytest", "-q", "-p", "kinto.core.testing.plugin", "-p", "no:cacheprovider"]
    result = subprocess.run(
        [*command, "--kinto-backend=thirdparty.good_cache", "--kinto-setting", "cache_prefix=mine:", "test_mine.py"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=environment,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert " passed" in result.stdout


def test_without_a_backend_option_the_plugin_skips_visibly(tmp_path):
    (tmp_path / "test_mine.py").write_text(
        "from kinto.core.testing.permission import PermissionContract\n\n\n"
        "class TestMine(PermissionContract):\n    pass\n",
        encoding="utf-8",
    )
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    command = [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "kinto.core.testing.plugin", "-p", "no:cacheprovider"]
    result = subprocess.run(
        [*command, "test_mine.py"], capture_output=True, text=True, cwd=tmp_path, timeout=600, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no --kinto-backend given" in result.stdout


def _installed_script(name: str) -> Path:
    script = Path(sys.executable).with_name(name)
    if not script.exists():
        pytest.skip(f"{name} is not installed beside this interpreter")
    return script


def run_in(folder: Path, command: list[str], environment: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        command, capture_output=True, text=True, cwd=folder, env=environment, timeout=600, check=False
    )


def test_the_installed_command_finds_a_backend_of_the_current_folder(thirdparty):
    # No PYTHONPATH: the module being written is found where the author stands, as `python -m` would.
    environment = {name: value for name, value in os.environ.items() if name != "PYTHONPATH" and "KINTO_" not in name}
    result = run_in(
        thirdparty, [str(_installed_script("kinto-conformance")), "thirdparty.good_cache", "-k", "ttl"], environment
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "cache backend thirdparty.good_cache against CacheContract" in result.stdout


#: A backend's own tests: a contract subclass and its backend_factory fixture, run without -p.
OWN_SUITE = """import pytest
from kinto.core.testing.cache import CacheContract
from thirdparty.good_cache import DictCache


class TestMine(CacheContract):
    @pytest.fixture
    def backend_factory(self):
        return lambda: DictCache(cache_prefix="mine:")
"""


def test_a_third_party_contract_suite_has_its_marker_registered_without_the_plugin(thirdparty, tmp_path):
    (tmp_path / "test_mine.py").write_text(OWN_SUITE, encoding="utf-8")
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    environment = {name: value for name, value in os.environ.items() if "KINTO_" not in name}
    environment["PYTHONPATH"] = str(thirdparty)
    environment.pop("PYTEST_DISABLE_PLUGIN_AUTOLOAD", None)
    strict = ["-W", "error::pytest.PytestUnknownMarkWarning", "-m", "contract", "-k", "test_a_missing_key_is_none"]
    result = run_in(tmp_path, [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *strict], environment)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
    assert "PytestUnknownMarkWarning" not in result.stdout + result.stderr
