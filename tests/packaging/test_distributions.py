"""The built distributions: each installs alone (with kinto-core) and versions come from per-package tags."""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys
import venv

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
DIST = pathlib.Path(os.environ.get("KINTO_DIST", ROOT / "dist"))
IMPORTS = {
    "kinto_core": "kinto.core",
    "kinto_server": "kinto.server",
    "kinto_fluent": "kinto_fluent",
    "kinto_riak": "kinto_riak",
    "kinto_fxa": "kinto_fxa",
    "kinto_elasticsearch": "kinto_elasticsearch",
}


def wheels() -> list[pathlib.Path]:
    found = sorted(DIST.glob("*.whl"))
    if not found:
        pytest.fail(f"no wheel in {DIST}: run `nox -s build`")
    return found


def core_wheel() -> pathlib.Path:
    return next(path for path in wheels() if path.name.startswith("kinto_core-"))


def fresh_venv(path: pathlib.Path) -> pathlib.Path:
    venv.EnvBuilder(with_pip=True).create(path)
    return path / ("Scripts" if os.name == "nt" else "bin") / "python"


@pytest.mark.parametrize("wheel", wheels(), ids=lambda path: path.name.split("-")[0])
def test_each_wheel_installs_alone_with_core(wheel, tmp_path):
    python = fresh_venv(tmp_path / "venv")
    to_install = [str(wheel)] if wheel.name.startswith("kinto_core-") else [str(core_wheel()), str(wheel)]
    subprocess.run([str(python), "-m", "pip", "install", "-q", *to_install], check=True)
    module = IMPORTS[wheel.name.split("-")[0]]
    subprocess.run([str(python), "-c", f"import {module}"], check=True, cwd=tmp_path)


@pytest.mark.skipif(shutil.which("git") is None, reason="git is needed to tag a clone")
def test_core_version_comes_from_its_own_tag(tmp_path):
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--no-local", str(ROOT), str(clone)], check=True)
    subprocess.run(["git", "-C", str(clone), "tag", "core-v9.8.7"], check=True)
    subprocess.run(["git", "-C", str(clone), "tag", "riak-cache-v0.0.42"], check=True)
    out = tmp_path / "out"
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(clone / "packages/core")],
        check=True,
        capture_output=True,
    )
    assert [path.name.split("-")[1] for path in out.glob("*.whl")] == ["9.8.7"]


def run_in(venv_python: pathlib.Path, *command: str, cwd: pathlib.Path) -> subprocess.CompletedProcess:
    script = venv_python.parent / command[0]
    return subprocess.run([str(script), *command[1:]], cwd=cwd, capture_output=True, text=True, timeout=600)


def test_kinto_conformance_after_installing_kinto_core_alone(tmp_path):
    python = fresh_venv(tmp_path / "venv")
    subprocess.run([str(python), "-m", "pip", "install", "-q", str(core_wheel())], check=True)

    help_ = run_in(python, "kinto-conformance", "--help", cwd=tmp_path)
    assert help_.returncode == 0, help_.stderr
    for option in ("target", "--kind", "--setting KEY=VALUE", "-k EXPRESSION", "-x", "-v, --verbose", "exit status"):
        assert option in help_.stdout

    # Without the suite's test dependencies: one line naming the extra, never a traceback.
    run = run_in(python, "kinto-conformance", "memory", "--kind", "cache", cwd=tmp_path)
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == [
        'kinto-conformance: error: the suite needs pytest and hypothesis: pip install "kinto-core[conformance]"'
    ]


@pytest.fixture(scope="module")
def conformance_venv(tmp_path_factory) -> pathlib.Path:
    """A venv holding kinto-core with its conformance extra, as a backend author installs it."""
    python = fresh_venv(tmp_path_factory.mktemp("conformance") / "venv")
    subprocess.run([str(python), "-m", "pip", "install", "-q", f"{core_wheel()}[conformance]"], check=True)
    return python


def test_kinto_conformance_passes_an_in_tree_backend_with_the_conformance_extra(conformance_venv, tmp_path):
    python = conformance_venv
    url = f"sqlite:///{tmp_path / 'cache.sqlite'}"
    run = run_in(
        python, "kinto-conformance", "sqlite", "--kind", "cache", "--setting", f"cache_url={url}", cwd=tmp_path
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "PASS:" in run.stdout and " 0 failed" in run.stdout


AUTHOR_CACHE = """
from kinto.core.cache.memory import Cache


def load_from_config(config):
    return Cache(cache_prefix=config.get_settings().get("cache_prefix", ""))
"""

AUTHOR_TESTS = """
import pytest
from kinto.core.testing.cache import CacheContract

import my_cache


class TestMyCache(CacheContract):
    @pytest.fixture
    def backend_factory(self):
        return lambda: my_cache.Cache(cache_prefix="tests:")
"""


def test_a_backend_being_written_is_tested_from_its_folder_and_by_its_own_suite(conformance_venv, tmp_path):
    (tmp_path / "my_cache.py").write_text(AUTHOR_CACHE, encoding="utf-8")
    (tmp_path / "test_my_cache.py").write_text(AUTHOR_TESTS, encoding="utf-8")
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")

    # No install, no PYTHONPATH: the module of the current folder.
    run = run_in(conformance_venv, "kinto-conformance", "my_cache", "-k", "ttl", cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "cache backend my_cache against CacheContract" in run.stdout

    # Its own suite: the contract marker is registered by kinto-core, without -p kinto.core.testing.plugin.
    strict = ["-W", "error::pytest.PytestUnknownMarkWarning", "-m", "contract", "-k", "test_a_missing_key_is_none"]
    run = run_in(conformance_venv, "pytest", "-q", "-p", "no:cacheprovider", *strict, cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 passed" in run.stdout
