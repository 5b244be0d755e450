"""The ``kinto-conformance`` command: run a contract suite against any installed backend.

    kinto-conformance TARGET [--kind cache|storage|permission|renderer]
                      [--setting KEY=VALUE ...] [-k EXPRESSION] [-x] [-v]

TARGET is a dotted module exposing ``load_from_config(config)``, a short name
registered in a ``kinto.<kind>`` entry-point group, or (for renderers) a
dotted class or callable; it is imported from the current folder first, as
``python -m`` would (a backend being written needs no install nor PYTHONPATH).
The kind is inferred from the object the module returns. The suite flushes the backend: point it at a throwaway database,
bucket or prefix. Exit status: 0 when every test passes, 1 when one fails (or
the backend cannot be reached), 2 on a usage error (bad target, unknown kind,
pytest or Hypothesis missing: they come with ``pip install "kinto-core[conformance]"``).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.util
import os
import sys
import tempfile
import textwrap
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from types import ModuleType
from typing import Any, TextIO

from kinto.core.backends import KINDS, kind_of, mask_url

# The suites run on pytest and Hypothesis, which kinto-core installs only with its ``conformance``
# extra: nothing here imports them (nor kinto.core.testing.plugin) before ``main`` has checked they exist.
SUITE_REQUIREMENTS = ("pytest", "hypothesis")
EXTRA_HINT = 'pip install "kinto-core[conformance]"'

__all__ = ["CONTRACTS", "main"]

#: kind -> (module, contract class) of its suite.
CONTRACTS = {
    "storage": ("kinto.core.testing.storage", "StorageContract"),
    "cache": ("kinto.core.testing.cache", "CacheContract"),
    "permission": ("kinto.core.testing.permission", "PermissionContract"),
    "renderer": ("kinto.core.testing.renderer", "RendererContract"),
}

EXIT_PASSED, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """The command line names something that cannot be tested."""


class BackendUnavailable(Exception):
    """The backend module exists but could not build a backend."""


@dataclass
class Target:
    """What the suite runs against: the name given to the plugin, and its kind."""

    name: str
    kind: str
    description: str


@dataclass
class Outcome:
    test: str
    status: str
    message: str = ""


@dataclass
class Report:
    """Collects test outcomes as pytest reports them (a pytest plugin object)."""

    outcomes: list[Outcome] = field(default_factory=list)

    def pytest_runtest_logreport(self, report: Any) -> None:
        if report.when == "call" or (report.when == "setup" and not report.passed):
            self.outcomes.append(Outcome(_test_name(report.nodeid), _status(report), _message(report)))
        elif report.when == "teardown" and report.failed:
            self.outcomes.append(Outcome(_test_name(report.nodeid), "error", _message(report)))

    def pytest_collectreport(self, report: Any) -> None:
        if report.failed:
            self.outcomes.append(Outcome(report.nodeid or "collection", "error", _message(report)))

    def count(self, status: str) -> int:
        return sum(1 for outcome in self.outcomes if outcome.status == status)


def _test_name(nodeid: str) -> str:
    return nodeid.rsplit("::", 1)[-1]


def _status(report: Any) -> str:
    if hasattr(report, "wasxfail"):
        return "xpassed" if report.passed else "xfailed"
    if report.passed:
        return "passed"
    if report.skipped:
        return "skipped"
    return "failed" if report.when == "call" else "error"


def _message(report: Any) -> str:
    if report.skipped and isinstance(report.longrepr, tuple):
        return str(report.longrepr[2]).removeprefix("Skipped: ")
    crash = getattr(report.longrepr, "reprcrash", None)
    if crash is not None:
        return str(crash.message)
    return str(getattr(report, "longreprtext", "") or "").strip()


def behaviour(test_name: str) -> str:
    """``test_expired_keys_are_never_returned[x]`` -> ``expired keys are never returned [x]``."""
    name, _, parameters = test_name.partition("[")
    words = name.removeprefix("test_").replace("_", " ")
    return f"{words} [{parameters}" if parameters else words


# -- resolving the target -------------------------------------------------------


def _entry_points(name: str) -> list[tuple[str, metadata.EntryPoint]]:
    found = []
    for kind in (*KINDS, "renderer"):
        for entry_point in metadata.entry_points(group=f"kinto.{kind}"):
            if entry_point.name == name:
                found.append((kind, entry_point))
    return found


def _import_module(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as error:
        if error.name and (name == error.name or name.startswith(error.name + ".")):
            return None
        raise UsageError(f"importing {name} failed: {error}") from error
    except Exception as error:
        raise UsageError(f"importing {name} raised {type(error).__name__}: {error}") from error


def _resolve_attribute(name: str) -> Any:
    from pyramid.path import DottedNameResolver

    try:
        return DottedNameResolver().resolve(name)
    except Exception as error:
        raise UsageError(f"cannot import {name!r}: no such module, class or callable") from error


def _renderer_target(name: str) -> Target:
    if ":" not in name and "." not in name:
        found = [entry for kind, entry in _entry_points(name) if kind == "renderer"]
        if not found:
            raise UsageError(f"no renderer registered under the name {name!r}")
        name = found[0].value
    obj = _resolve_attribute(name)
    if not callable(obj):
        raise UsageError(f"{name} is neither a renderer class nor a callable")
    return Target(name, "renderer", f"renderer {name}")


def _module_for(name: str, kind: str | None) -> tuple[ModuleType, str | None]:
    if "." not in name and ":" not in name:
        found = [(k, entry) for k, entry in _entry_points(name) if kind is None or k == kind]
        if len(found) > 1:
            kinds = ", ".join(sorted(k for k, _ in found))
            raise UsageError(f"{name!r} is registered for several kinds ({kinds}): pass --kind")
        if found:
            found_kind, entry_point = found[0]
            if found_kind == "renderer":
                raise UsageError(f"{name!r} is a renderer: pass --kind renderer")
            module = _import_module(entry_point.module)
            if module is None:
                raise UsageError(f"{name!r} points to {entry_point.module}, which is not importable")
            return module, found_kind
    module = _import_module(name)
    if module is None:
        where = f" and no {kind} backend registered under that name" if kind else ""
        raise UsageError(f"no module named {name!r}{where}")
    return module, kind


def resolve_target(name: str, kind: str | None, settings: Mapping[str, str]) -> Target:
    """Find what ``name`` designates and its kind; raise ``UsageError`` when it
    cannot be tested and ``BackendUnavailable`` when its backend cannot load."""
    if kind is not None and kind not in CONTRACTS:
        raise UsageError(f"unknown kind {kind!r}; expected one of {', '.join(CONTRACTS)}")
    if kind == "renderer":
        return _renderer_target(name)
    if ":" in name:
        return _renderer_target(name)
    if kind is None and "." not in name and {k for k, _ in _entry_points(name)} == {"renderer"}:
        return _renderer_target(name)
    try:
        module, kind = _module_for(name, kind)
    except UsageError:
        if kind is None and callable(_maybe_attribute(name)):
            return _renderer_target(name)
        raise
    loader = getattr(module, "load_from_config", None)
    if not callable(loader):
        if kind is None and callable(_maybe_attribute(name)):
            return _renderer_target(name)
        raise UsageError(f"{module.__name__} has no load_from_config(config)")
    backend = _probe(module, settings)
    found = kind_of(backend)
    if found is None:
        raise UsageError(
            f"{module.__name__}.load_from_config returned {type(backend).__qualname__}, "
            "which implements none of StorageBase, CacheBase, PermissionBase"
        )
    if kind is not None and found != kind:
        raise UsageError(f"{module.__name__} builds a {found} backend, not a {kind} one")
    return Target(module.__name__, found, f"{found} backend {module.__name__}")


def _maybe_attribute(name: str) -> Any:
    with contextlib.suppress(UsageError):
        return _resolve_attribute(name)
    return None


def _probe(module: ModuleType, settings: Mapping[str, str]) -> Any:
    from pyramid.config import Configurator

    from kinto.core.testing.plugin import settings_in_both_forms

    config = Configurator(settings=settings_in_both_forms(settings))
    try:
        return module.load_from_config(config)
    except Exception as error:
        urls = [mask_url(str(value)) for key, value in settings.items() if key.endswith("_url")]
        where = f" ({', '.join(urls)})" if urls else ""
        raise BackendUnavailable(
            f"{module.__name__}.load_from_config(config) raised {type(error).__name__}{where}: {error}"
        ) from error
    finally:
        for client in list(config.registry.get("kinto.database.clients", {}).values()):
            with contextlib.suppress(Exception):
                client.close()


# -- running the suite -----------------------------------------------------------


def _write_suite(directory: Path, kind: str) -> Path:
    module, contract = CONTRACTS[kind]
    (directory / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    path = directory / f"test_{kind}_conformance.py"
    path.write_text(
        f"from {module} import {contract}\n\n\nclass TestConformance({contract}):\n    pass\n", encoding="utf-8"
    )
    return path


def run_suite(
    target: Target, settings: Mapping[str, str], *, keyword: str | None, exitfirst: bool, verbose: bool
) -> Report:
    """Run the contract of ``target.kind`` through ``pytest.main`` with the plugin."""
    import pytest

    report = Report()
    with tempfile.TemporaryDirectory(prefix="kinto-conformance-") as directory:
        suite = _write_suite(Path(directory), target.kind)
        arguments = [
            str(suite),
            "-c",
            str(Path(directory) / "pytest.ini"),
            "--rootdir",
            directory,
            "-p",
            "kinto.core.testing.plugin",
            # Loading the contract module as a plugin has pytest rewrite its asserts (readable failures).
            "-p",
            CONTRACTS[target.kind][0],
            "-p",
            "no:cacheprovider",
            "--kinto-backend",
            target.name,
            "-W",
            "ignore::DeprecationWarning",
            "-W",
            "ignore::pytest.PytestAssertRewriteWarning",
        ]
        if target.kind in KINDS:
            arguments += ["--kinto-kind", target.kind]
        for key, value in settings.items():
            arguments += ["--kinto-setting", f"{key}={value}"]
        arguments += ["-v", "--tb=short"] if verbose else ["-q", "--tb=no", "--no-header", "-rN"]
        if keyword:
            arguments += ["-k", keyword]
        if exitfirst:
            arguments.append("-x")
        pytest.main(arguments, plugins=[report])
    return report


def print_report(target: Target, report: Report, seconds: float, out: TextIO) -> int:
    """Print the outcome of every failed or skipped test and the totals; return the exit status."""
    contract = CONTRACTS[target.kind][1]
    print(f"\nkinto-conformance: {target.description} against {contract}", file=out)
    for label, statuses in (("FAILED", ("failed", "error", "xpassed")), ("SKIPPED", ("skipped",))):
        for outcome in (item for item in report.outcomes if item.status in statuses):
            print(f"  {label} {outcome.test}", file=out)
            print(f"      {behaviour(outcome.test)}", file=out)
            if outcome.message:
                for line in outcome.message.strip().splitlines()[:6]:
                    print(f"      | {line}", file=out)
    failed = report.count("failed") + report.count("error") + report.count("xpassed")
    passed = report.count("passed")
    totals = f"{passed} passed, {failed} failed, {report.count('skipped')} skipped"
    if report.count("xfailed"):
        totals += f", {report.count('xfailed')} expected failures"
    ok = failed == 0 and passed > 0
    print(f"\n{'PASS' if ok else 'FAIL'}: {totals} in {seconds:.1f} s", file=out)
    return EXIT_PASSED if ok else EXIT_FAILED


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kinto-conformance",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "Run the kinto.core contract suite (CacheContract, StorageContract, PermissionContract\n"
            "or RendererContract) against a backend or log renderer, and print a pass/fail report."
        ),
        epilog=textwrap.dedent(
            f"""\
            examples:
              kinto-conformance memory --kind cache
              kinto-conformance kinto.core.cache.redis --setting cache_url=redis://localhost:6379/9
              kinto-conformance my_package.storage --setting storage_url=postgresql://localhost/throwaway
              kinto-conformance kinto_fluent.FluentRenderer --kind renderer

            exit status: 0 every test passed, 1 a test failed or the backend could not be built,
            2 usage error (unknown target or kind, bad --setting, missing pytest/hypothesis).

            The suite flushes the backend: point it at a throwaway database, bucket or prefix.
            Its test dependencies come with the conformance extra: {EXTRA_HINT}
            """
        ),
    )
    parser.add_argument(
        "target",
        help=(
            "what to test: a dotted module exposing load_from_config(config) (my_package.cache), "
            "a name registered in a kinto.cache/kinto.storage/kinto.permission/kinto.renderer "
            "entry-point group (memory, redis, riak), or a dotted renderer class or callable "
            "(kinto_fluent.FluentRenderer); modules of the current folder are found first"
        ),
    )
    parser.add_argument(
        "--kind",
        choices=list(CONTRACTS),
        help="the contract to run; inferred from the object load_from_config returns when omitted, "
        "needed when an entry-point name is registered for several kinds",
    )
    parser.add_argument(
        "--setting",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a setting given to load_from_config, with or without the kinto. prefix "
        "(cache_url=redis://localhost/9); repeat it for several settings",
    )
    parser.add_argument(
        "-k", dest="keyword", metavar="EXPRESSION", help="only run the tests matching this pytest -k expression"
    )
    parser.add_argument("-x", dest="exitfirst", action="store_true", help="stop at the first failing test")
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="show pytest's own output: every test and full tracebacks"
    )
    return parser


def missing_requirements() -> list[str]:
    """The suite's test dependencies that are not installed."""
    return [name for name in SUITE_REQUIREMENTS if importlib.util.find_spec(name) is None]


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Entry point of ``kinto-conformance``; returns the exit status."""
    out = out or sys.stdout
    parser = _parser()
    try:
        options = parser.parse_args(argv)
    except SystemExit as exit_:
        return EXIT_USAGE if exit_.code else EXIT_PASSED
    missing = missing_requirements()
    if missing:
        print(f"kinto-conformance: error: the suite needs {' and '.join(missing)}: {EXTRA_HINT}", file=sys.stderr)
        return EXIT_USAGE
    from kinto.core.testing.plugin import parse_setting

    # An installed script's sys.path starts with its own folder, not the current one.
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        settings = dict(parse_setting(text) for text in options.setting)
        target = resolve_target(options.target, options.kind, settings)
    except (UsageError, ValueError) as error:
        print(f"kinto-conformance: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except BackendUnavailable as error:
        print(f"kinto-conformance: FAIL: the backend could not be built: {error}", file=out)
        return EXIT_FAILED
    started = time.monotonic()
    report = run_suite(target, settings, keyword=options.keyword, exitfirst=options.exitfirst, verbose=options.verbose)
    return print_report(target, report, time.monotonic() - started, out)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
