"""One command per task. ``nox`` alone runs every package's tests and the integration tests.

Sessions:
  tests-<package>       one per folder of packages/ (core, server, fluent-renderer, ...), each in a venv
                        holding only kinto-core and that package
  riak-cache, fluent-renderer, fxa-auth
                        the same as tests-<that folder> (the names the issues use)
  contract-<backend>    the contract suite against one in-tree backend (memory, sqlite, postgresql, redis,
                        memcached)
  contract              all of them
  integration           tests needing several packages together (tests/integration/)
  migration             a PostgreSQL database written by Kinto 26.5.0, converted by kinto migrate, served by ours
  security              the security regression tests (tests/security/) and a schemathesis run against
                        the live server's /v1/__api__
  clients               kinto-http.py 11.11.0's own functional tests against a live ``kinto start`` (port 8888), then
                        kinto.js 17.1.1 (npm ``kinto``) syncing the default bucket of another (tests/clients/kintojs)
  side-by-side          the server's HTTP tests against live Kinto 26.5.0 and ours (not in the default run)
  examples              the example microservice (examples/myproject), end to end
  js-client             the JavaScript client (packages/js-client): npm ci, build, and its tests against a live
                        ``kinto start`` and the myproject example, and in headless Chromium (Debian's chromium)
  admin                 the web admin (packages/admin): npm ci, build into kinto/plugins/admin/build, and its
                        browser tests in Debian's Chromium against a live ``kinto start`` (not in the default run yet)
  docs                  the documentation site (docs/): every code block of its pages run, then a strict MkDocs
                        build into site/ (warnings and broken internal links fail); not in the default run
  lint                  ruff
  build                 sdist + wheel of every package, each installed alone in a fresh venv
  serve                 run the Kinto server with the embedded SQLite default
  bench                 benchmarks (``nox -s bench -- <workload or suite>``)

PostgreSQL tests run when ``KINTO_TEST_POSTGRESQL_URL`` is set (and must pass then), or when a server answers
at the default URL; otherwise they are skipped with a visible reason. Redis tests likewise, with
``KINTO_TEST_REDIS_URL`` (default redis://127.0.0.1:6379/9). Memcached tests start a memcached of their own
from the ``memcached`` binary (Debian package memcached; .ci/run installs it) or use ``KINTO_TEST_MEMCACHED_URL``;
with neither they are skipped with a visible reason.
"""

from __future__ import annotations

import os
import pathlib
import re
import shutil

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_missing_interpreters = True

ROOT = pathlib.Path(__file__).parent
PACKAGES = ROOT / "packages"
CORE = "packages/core"
CONTRACT_BACKENDS = ("memory", "sqlite", "postgresql", "redis", "memcached")
#: Pinned: tests/security/test_schemathesis.py relies on its configuration keys and pytest integration.
SCHEMATHESIS = "schemathesis==4.32.5"
#: Kinto's own plugins from PyPI, run unchanged on our server by tests/integration/test_kinto_plugins.py.
#: They are installed without their dependencies (they require Kinto itself, which would shadow our
#: ``kinto`` namespace) and without their Python floor: kinto-attachment 9.0.1 declares 3.12 but runs on
#: 3.10+. What they need besides Kinto is in ``KINTO_PLUGIN_DEPENDENCIES``.
KINTO_PLUGINS = ("kinto-attachment==9.0.1", "kinto-emailer==4.0.0")
#: pyramid_mailer for kinto-emailer; setuptools below 81 for kinto-attachment's ``pkg_resources``;
#: aiosmtpd is the tests' SMTP server.
KINTO_PLUGIN_DEPENDENCIES = ("pyramid_mailer>=0.15", "setuptools<81", "aiosmtpd>=1.4")
#: Extras holding the drivers of the backends on services, installed wherever their package is: their tests run
#: (PostgreSQL, Redis: KINTO_TEST_POSTGRESQL_URL, KINTO_TEST_REDIS_URL; memcached: started by the tests themselves
#: from the memcached binary, or KINTO_TEST_MEMCACHED_URL).
SERVICE_EXTRAS = ("postgresql", "redis", "memcached")


def _package_folders() -> list[str]:
    return sorted(path.parent.name for path in PACKAGES.glob("*/pyproject.toml"))


def _extras(folder: str) -> list[str]:
    # A regular expression rather than tomllib, which Python 3.10 lacks.
    text = (PACKAGES / folder / "pyproject.toml").read_text()
    section = (
        text.split("[project.optional-dependencies]", 1)[1].split("\n[", 1)[0]
        if "[project.optional-dependencies]" in text
        else ""
    )
    return [name for name in ("testing", *SERVICE_EXTRAS) if re.search(rf"^{name}\s*=", section, re.M)]


def _install(session: nox.Session, *folders: str) -> None:
    targets = []
    for folder in folders:
        extras = _extras(folder)
        suffix = f"[{','.join(extras)}]" if extras else ""
        targets += ["-e", f"packages/{folder}{suffix}"]
    session.install(*targets)


def _pytest(session: nox.Session, *args: str) -> None:
    # pytest exits 5 when it collected nothing: nox treats it as the failure it is.
    session.run("pytest", "-p", "no:cacheprovider", *args, *session.posargs)


def _tests_session(folder: str):
    def session_function(session: nox.Session) -> None:
        needed = ["core"] if folder == "core" else ["core", folder]
        _install(session, *needed)
        _pytest(session, f"packages/{folder}/tests")

    session_function.__doc__ = f"Tests of packages/{folder}, with only kinto-core beside it."
    return session_function


for _folder in _package_folders():
    nox.session(name=f"tests-{_folder}")(_tests_session(_folder))

#: The names the issues use for the plugin packages' tests: aliases of ``tests-<folder>``, not run by
#: ``nox`` alone (which already runs ``tests-<folder>``).
TEST_ALIASES = ("riak-cache", "fluent-renderer", "fxa-auth")

for _alias in TEST_ALIASES:
    if (PACKAGES / _alias / "pyproject.toml").exists():
        _alias_function = _tests_session(_alias)
        _alias_function.__doc__ = f"Same as tests-{_alias}."
        nox.session(name=_alias, default=False)(_alias_function)


def _contract_session(backend: str):
    def session_function(session: nox.Session) -> None:
        _install(session, "core")
        session.env["KINTO_CONTRACT_BACKENDS"] = backend
        _pytest(session, "packages/core/tests", "-m", "contract")

    session_function.__doc__ = f"The contract suite against the in-tree {backend} backends."
    return session_function


for _backend in CONTRACT_BACKENDS:
    nox.session(name=f"contract-{_backend}", default=False)(_contract_session(_backend))


@nox.session(default=False)
def contract(session: nox.Session) -> None:
    """The contract suite against every in-tree backend."""
    _install(session, "core")
    _pytest(session, "packages/core/tests", "-m", "contract")


@nox.session
def integration(session: nox.Session) -> None:
    """Tests that need several packages together (FxA users on the server, search through the server...)."""
    folder = ROOT / "tests" / "integration"
    if not any(folder.glob("test_*.py")):
        session.skip("no integration tests yet (tests/integration/ is empty)")
    _install(session, *_package_folders())
    session.install(*KINTO_PLUGIN_DEPENDENCIES)
    # pip rather than the session's installer: uv has no way to ignore a declared Python floor.
    session.install("pip")
    session.run("python", "-m", "pip", "install", "--quiet", "--no-deps", "--ignore-requires-python", *KINTO_PLUGINS)
    _pytest(session, "tests/integration")


@nox.session
def security(session: nox.Session) -> None:
    """Security regression tests (one module per hole closed) and schemathesis against a live server."""
    _install(session, *_package_folders())
    session.install(SCHEMATHESIS)
    _pytest(session, "tests/security")


@nox.session
def clients(session: nox.Session) -> None:
    """kinto-http.py 11.11.0's own functional tests (from its sdist, with its kinto.ini) against a live
    ``kinto start`` of ours on port 8888 (the suite's): tests/clients/kinto_http_suite.py; then kinto.js
    17.1.1 syncing the default bucket of a ``kinto start`` on a free port (tests/clients/kintojs, Node)."""
    _install(session, "core", "server")
    session.install("kinto-http==11.11.0", "pytest", "pytest-asyncio", "pytest-mock", *KINTO_PLUGIN_DEPENDENCIES)
    # The suite's kinto.ini includes kinto-attachment: installed as the integration session does.
    session.install("pip")
    session.run(
        "python", "-m", "pip", "install", "--quiet", "--no-deps", "--ignore-requires-python", "kinto-attachment==9.0.1"
    )
    session.run("python", "tests/clients/kinto_http_suite.py", *session.posargs)
    kinto = pathlib.Path(session.bin) / "kinto"
    with session.chdir("tests/clients/kintojs"):
        session.run("npm", "ci", "--no-audit", "--no-fund", external=True)
        session.run("npm", "test", external=True, env={"KINTO": str(kinto)})


@nox.session(name="side-by-side", default=False)
def side_by_side(session: nox.Session) -> None:
    """The server's HTTP tests against a live Kinto 26.5.0 (its own venv in bench/.venvs/) and a live
    ``kinto start`` of ours: ``nox -s side-by-side [-- --backend postgresql -k records]``; report in
    tests/side_by_side/results.md."""
    _install(session, "core", "server")
    session.run("python", "tests/side_by_side/run.py", *session.posargs)


@nox.session
def migration(session: nox.Session) -> None:
    """A PostgreSQL database written by Kinto 26.5.0 (its own venv in bench/.venvs/), converted by
    ``kinto migrate`` and served identically by ours (tests/migration/; needs KINTO_TEST_POSTGRESQL_URL)."""
    _install(session, "core", "server")
    session.install("requests")
    _pytest(session, "tests/migration")


@nox.session
def examples(session: nox.Session) -> None:
    """The example microservice of the documentation (examples/myproject), end to end."""
    _install(session, "core", "elasticsearch-indexer")
    session.install("-e", "examples/myproject[testing]")
    _pytest(session, "examples/myproject/tests")


@nox.session(name="js-client")
def js_client(session: nox.Session) -> None:
    """The JavaScript client: ``npm ci``, ``npm run build``, then ``npm test`` against real servers and in Chromium."""
    # Only what the servers need to run (no test extras, no database drivers): the session stays short.
    # myproject's development.ini serves with waitress.
    session.install(
        "-e",
        CORE,
        "-e",
        "packages/server[waitress]",
        "-e",
        "packages/elasticsearch-indexer",
        "-e",
        "examples/myproject",
    )
    # The tests start ``kinto`` and ``pserve`` from PATH, where nox puts this session's first; the browser
    # tests need Debian's chromium at /usr/bin/chromium (or CHROMIUM_PATH), which .ci/run installs.
    with session.chdir("packages/js-client"):
        session.run("npm", "ci", "--no-audit", "--no-fund", external=True)
        session.run("npm", "run", "build", external=True)
        session.run("npm", "test", external=True)


#: Not in the default run until it has proved reliable on CI (it needs Node, npm and Chromium on the machine).
@nox.session(default=False)
def admin(session: nox.Session) -> None:
    """The web admin: ``npm ci``, ``npm run build`` (into the server's kinto/plugins/admin/build), then the
    browser tests (Playwright driving Debian's Chromium, or $CHROMIUM_PATH) against a live ``kinto start``;
    ``nox -s admin -- -g sharing`` passes options on to ``playwright test``."""
    chromium = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")
    if not chromium:
        session.error("the browser tests need Chromium: apt-get install -y chromium (or set CHROMIUM_PATH)")
    # The search tab is tested on the search plugin's embedded index.
    _install(session, "core", "server", "elasticsearch-indexer")
    build = "packages/server/src/kinto/plugins/admin/build"
    env = {"PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD": "1", "CHROMIUM_PATH": chromium}
    # The tests start ``kinto`` from PATH, where nox puts this session's first.
    with session.chdir("packages/admin"):
        session.run("npm", "ci", "--no-audit", "--no-fund", external=True, env=env)
        session.run("npm", "run", "build", external=True)
        session.run("npx", "playwright", "test", *session.posargs, external=True, env=env)
    changed = session.run("git", "status", "--porcelain", "--", build, external=True, silent=True)
    if changed:
        session.warn(f"The admin's build differs from the committed one: commit {build} with the source.")


#: In the default run, so that CI proves every page's examples still run and the site builds: about 5
#: minutes on a quiet 2-core machine (its examples run kinto-conformance and pytest several times).
@nox.session
def docs(session: nox.Session) -> None:
    """The documentation site: its examples run (docs/tests), then ``mkdocs build --strict`` into site/."""
    # Every package, without its test extras: the reference pages read their settings tables and commands.
    others = [
        argument for folder in _package_folders() if folder != "core" for argument in ("-e", f"packages/{folder}")
    ]
    session.install("-e", f"{CORE}[testing,redis,memcached]", *others)
    session.install("-r", "docs/requirements.txt")
    _pytest(session, "docs/tests")
    session.run("mkdocs", "build", "--strict", "--config-file", "docs/mkdocs.yml", env={"NO_MKDOCS_2_WARNING": "1"})


@nox.session(default=False)
def lint(session: nox.Session) -> None:
    """ruff check and format check."""
    session.install("ruff")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(default=False)
def build(session: nox.Session) -> None:
    """Build every package's sdist and wheel, then install each wheel alone (with core) in a fresh venv."""
    session.install("build", "setuptools-scm>=8", "pytest")
    dist = ROOT / "dist"
    dist.mkdir(exist_ok=True)
    for folder in _package_folders():
        session.run("python", "-m", "build", "--outdir", str(dist), f"packages/{folder}")
    session.run("pytest", "-p", "no:cacheprovider", "tests/packaging", *session.posargs, env={"KINTO_DIST": str(dist)})


@nox.session(default=False)
def serve(session: nox.Session) -> None:
    """Run the Kinto server on the embedded SQLite default (data in ./data)."""
    # Only what serving needs (no test extras): the quickstart should install in seconds.
    session.install("-e", CORE, "-e", "packages/server")
    # ``nox -s serve -- --port 9999`` passes options on to ``kinto start``.
    session.run("kinto", "start", *session.posargs)


@nox.session(default=False)
def bench(session: nox.Session) -> None:
    """Benchmarks: ``nox -s bench [-- WORKLOAD... --backend B --server-kind granian|gunicorn --duration S --profile
    WORKLOAD]`` runs our server side by side with Kinto 26.5.0 (installed in bench/.venvs/, never here);
    ``nox -s bench -- --server-kind granian --server-kind gunicorn`` writes the whole table (three backends, both
    WSGI servers) to one file; ``nox -s bench -- backends`` runs the storage backend benchmark; ``nox -s bench --
    load`` compares whole deployments under many connections; ``nox -s bench -- scale`` serves one collection of
    a million records (PostgreSQL and SQLite)."""
    if session.posargs[:1] == ["backends"]:
        _install(session, "core")
        env = {"KINTO_TEST_POSTGRESQL_URL": os.environ.get("KINTO_TEST_POSTGRESQL_URL", "")}
        session.run("python", "bench/backends.py", *session.posargs[1:], env=env)
        return
    if session.posargs[:1] == ["load"]:
        _install(session, "core", "server")
        session.install("-r", "bench/requirements.txt")
        session.run("python", "bench/load.py", *session.posargs[1:])
        return
    if session.posargs[:1] == ["scale"]:
        _install(session, "core", "server")
        session.install("-r", "bench/requirements.txt")
        session.run("python", "bench/scale.py", *session.posargs[1:])
        return
    # Our server joins the table as soon as its package has code.
    served = ["core", "server"] if (PACKAGES / "server" / "src" / "kinto" / "server").is_dir() else ["core"]
    _install(session, *served)
    session.install("-r", "bench/requirements.txt")
    session.run("python", "bench/side_by_side.py", *session.posargs)
