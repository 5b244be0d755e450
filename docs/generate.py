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
    from kinto.core.settings import NoneOr

    if isinstance(value, NoneOr):
        value = None
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
        module = importlib.import_module(module_name)
        defaults, descriptions = module.DEFAULT_SETTINGS, getattr(module, "SETTING_DESCRIPTIONS", {})
        missing, unknown = set(defaults) - set(descriptions), set(descriptions) - set(defaults)
        if missing or unknown:
            raise ValueError(
                f"{module_name}.SETTING_DESCRIPTIONS must describe every key of DEFAULT_SETTINGS and no other: "
                f"missing {sorted(missing)}, unknown {sorted(unknown)}"
            )
        rows = [
            "| setting | default | environment variable | what it does |",
            "|---|---|---|---|",
        ]
        for key, value in defaults.items():
            # Dotted keys (plugins' own, multiauth.*) are shown as their tables spell them.
            name = key if "." in key else f"kinto.{key}"
            default = _cell(value)
            if module_name == "kinto.server" and key in core and core[key] != value:
                default += f" (core: {_cell(core[key])})"
            description = descriptions[key].replace("|", "\\|")
            rows.append(f"| `{name}` | {default} | `{environment_names(key)[0]}` | {description} |")
        sections.append(
            f"### {what}\n\nPackage `{distribution}`, tables `{module_name}.DEFAULT_SETTINGS` and "
            f"`SETTING_DESCRIPTIONS`.\n\n" + "\n".join(rows)
        )
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


#: The server the HTTP API page describes: memory backends, and the built-in plugins whose endpoints
#: a deployment may enable (openid needs a provider to describe, admin serves files).
API_SETTINGS = {
    "userid_hmac_secret": "the HTTP API page",
    "storage_backend": "memory",
    "cache_backend": "memory",
    "permission_backend": "memory",
    "includes": "kinto.plugins.default_bucket kinto.plugins.history kinto.plugins.accounts kinto.plugins.flush",
    "multiauth.policies": "account basicauth",
    "multiauth.policy.account.use": "kinto.plugins.accounts.AccountsPolicy",
    "experimental_permissions_endpoint": "true",
}
METHODS = ("get", "head", "post", "put", "patch", "delete")


def _operation_title(operation: dict[str, Any]) -> str:
    title = operation.get("summary") or operation.get("description") or operation.get("operationId", "")
    return str(title).replace("_", " ").replace("|", "\\|").split("\n", 1)[0]


def _parameter_rows(operations: dict[str, dict[str, Any]]) -> list[str]:
    seen: dict[tuple[str, str], dict[str, Any]] = {}
    methods: dict[tuple[str, str], list[str]] = {}
    for method, operation in operations.items():
        for parameter in operation.get("parameters", []):
            key = (parameter["name"], parameter["in"])
            seen.setdefault(key, parameter)
            methods.setdefault(key, []).append(method.upper())
    rows = []
    for key, parameter in seen.items():
        description = str(parameter.get("description", "")).replace("|", "\\|")
        required = "yes" if parameter.get("required") else ""
        rows.append(f"| `{key[0]}` | {key[1]} | {required} | {' '.join(methods[key])} | {description} |")
    return rows


def http_api_reference() -> str:
    """The endpoints of ``GET /v1/__api__``, as the server answers it."""
    import webtest

    from kinto.server import main

    document = webtest.TestApp(main({}, **API_SETTINGS)).get("/v1/__api__").json
    info = document["info"]
    parts = [
        f"OpenAPI {document['openapi']}, {info['description']}; built with "
        f"`kinto.includes = {API_SETTINGS['includes']}` and the permissions endpoint on."
    ]
    for path, item in sorted(document["paths"].items()):
        operations = {method: item[method] for method in METHODS if method in item}
        tags = sorted({tag for operation in operations.values() for tag in operation.get("tags", [])})
        rows = ["| method | operation | statuses |", "|---|---|---|"]
        for method, operation in operations.items():
            statuses = " ".join(sorted(operation.get("responses", {})))
            rows.append(f"| {method.upper()} | {_operation_title(operation)} | {statuses} |")
        section = [f"### `/v1{path}`", f"Tags: {', '.join(tags)}." if tags else "", "\n".join(rows)]
        parameters = _parameter_rows(operations)
        if parameters:
            header = ["| parameter | in | required | methods | description |", "|---|---|---|---|---|"]
            section.append("\n".join(header + parameters))
        parts.append("\n\n".join(filter(None, section)))
    error = document["components"]["schemas"]["Error"]
    fields = ", ".join(f"`{name}`" for name in error["properties"])
    parts.append(
        f"### Errors\n\nEvery error status answers the `Error` schema: {fields} "
        f"(required: {', '.join(error['required'])}); its errnos are listed on the errors page."
    )
    return "\n\n".join(parts)


GENERATORS: dict[str, Callable[[], str]] = {
    "http-api": http_api_reference,
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
