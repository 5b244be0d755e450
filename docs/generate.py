"""Reference tables generated from the code at build time (an MkDocs hook).

A page asks for one with a line of its own, ``<!-- generated: NAME -->``; NAME is a key of
``GENERATORS``. The tables come from the installed packages themselves: the settings from each
package's table of defaults, the command line from ``--help`` as a user sees it, the errnos from
``kinto.core.errors.ERRORS``. Nothing here is written by hand, so nothing here can drift.
"""

from __future__ import annotations

import importlib
import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

MARKER = re.compile(r"^<!-- generated: ([a-z-]+) -->$", re.M)

#: Each package's table of defaults: (distribution, what it is, module holding ``DEFAULT_SETTINGS``).
SETTINGS_TABLES = [
    ("kinto-core", "kinto.core", "kinto.core.settings"),
    ("kinto-core", "cache backend `redis`", "kinto.core.cache.redis"),
    ("kinto-core", "cache backend `memcached`", "kinto.core.cache.memcached"),
    ("kinto-server", "the Kinto server (overrides of the core's defaults, and its own)", "kinto.server"),
    ("kinto-server", "kinto.plugins.history", "kinto.plugins.history.options"),
    ("kinto-server", "kinto.plugins.default_bucket", "kinto.plugins.default_bucket"),
    ("kinto-server", "kinto.plugins.admin", "kinto.plugins.admin"),
    ("kinto-server", "kinto.plugins.prometheus", "kinto.plugins.prometheus"),
    ("kinto-server", "kinto.plugins.statsd", "kinto.plugins.statsd"),
    ("kinto-elasticsearch", "kinto_elasticsearch", "kinto_elasticsearch.settings"),
    ("kinto-fxa", "kinto_fxa", "kinto_fxa.settings"),
    ("kinto-riak", "kinto_riak (cache backend)", "kinto_riak.cache"),
    ("kinto-fluent", "kinto_fluent (log renderer)", "kinto_fluent.settings"),
]

#: The commands whose ``--help`` the CLI page shows, besides every ``kinto`` sub-command.
STANDALONE_COMMANDS = ["kinto-conformance"]


def _cell(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        value = " ".join(str(item) for item in value)
    text = json.dumps(value) if value is None or isinstance(value, bool) else str(value)
    text = text.replace("|", "\\|")
    return f"`{text}`" if text else "(empty)"


def settings_reference() -> str:
    from kinto.core.settings import environment_names

    core = importlib.import_module("kinto.core.settings").DEFAULT_SETTINGS
    sections = []
    for distribution, what, module_name in SETTINGS_TABLES:
        defaults = importlib.import_module(module_name).DEFAULT_SETTINGS
        rows = [
            "| setting | default | environment variable |",
            "|---|---|---|",
        ]
        for key, value in defaults.items():
            # Dotted keys (plugins' own, multiauth.*) are shown as their tables spell them.
            name = key if "." in key else f"kinto.{key}"
            default = _cell(value)
            if module_name == "kinto.server" and key in core and core[key] != value:
                default += f" (core: {_cell(core[key])})"
            rows.append(f"| `{name}` | {default} | `{environment_names(key)[0]}` |")
        sections.append(f"### {what}\n\nPackage `{distribution}`, table `{module_name}.DEFAULT_SETTINGS`.\n\n" + "\n".join(rows))
    return "\n\n".join(sections)


def _help(command: list[str]) -> str:
    # The scripts installed beside this interpreter, as a user's shell finds them.
    script = Path(sys.executable).with_name(command[0])
    done = subprocess.run([str(script), *command[1:]], capture_output=True, text=True, check=True, timeout=120)
    return done.stdout.rstrip()


def _kinto_commands(top_help: str) -> list[str]:
    section = top_help.split("commands:", 1)[1]
    return [match.group(1) for match in re.finditer(r"^    ([a-z][a-z0-9-]*)\s", section, re.M)]


def cli_reference() -> str:
    top = _help(["kinto", "--help"])
    parts = ["### `kinto`", f"```text\n{top}\n```"]
    for name in _kinto_commands(top):
        parts += [f"### `kinto {name}`", f"```text\n{_help(['kinto', name, '--help'])}\n```"]
    for command in STANDALONE_COMMANDS:
        parts += [f"### `{command}`", f"```text\n{_help([command, '--help'])}\n```"]
    return "\n\n".join(parts)


def errors_reference() -> str:
    from kinto.core.errors import ERRORS

    rows = ["| errno | name |", "|---|---|"]
    rows += [f"| {error.value} | `{error.name}` |" for error in ERRORS]
    return "\n".join(rows)


GENERATORS: dict[str, Callable[[], str]] = {
    "settings": settings_reference,
    "cli": cli_reference,
    "errnos": errors_reference,
}


def expand(markdown: str) -> str:
    """Replace every ``<!-- generated: NAME -->`` line of ``markdown`` by its table."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in GENERATORS:
            raise ValueError(f"unknown generated section {name!r}; known: {', '.join(GENERATORS)}")
        return GENERATORS[name]()

    return MARKER.sub(replace, markdown)


LINK = re.compile(r"(?<!!)\[(?P<text>[^\]]+)\]\((?P<target>[^)\s]+)\)")
REPOSITORY = Path(__file__).resolve().parents[1]


def repository_links(markdown: str, page_folder: Path, docs_folder: Path) -> str:
    """Turn links to repository files outside the site (README text included here links to
    ``bench/...``, ``packages/...``) into the file's path in the repository, shown as code."""

    def replace(match: re.Match[str]) -> str:
        target = match.group("target")
        if re.match(r"^[a-z][a-z0-9+.-]*:|^#|^/", target):
            return match.group(0)
        path = (page_folder / target.split("#", 1)[0]).resolve()
        if path.is_relative_to(docs_folder) or not path.is_relative_to(REPOSITORY):
            return match.group(0)
        return f"{match.group('text')} (`{path.relative_to(REPOSITORY)}` in the repository)"

    return LINK.sub(replace, markdown)


def on_page_markdown(markdown: str, page: Any, config: Any, **kwargs: Any) -> str:
    docs_folder = Path(config["docs_dir"]).resolve()
    page_folder = Path(page.file.abs_src_path).resolve().parent
    return repository_links(expand(markdown), page_folder, docs_folder)
