"""The ``kinto`` command (also ``python -m kinto.server``).

::

    kinto init     [--ini FILE] [--backend sqlite|postgresql|memory] [--cache-backend ...] [--host HOST]
                   [--auth accounts|basicauth]
    kinto start    [--ini FILE] [--server granian|gunicorn|waitress] [--host H] [--port P] [--bind H:P]
                   [--workers N] [--threads N] [--queue-size N] [--max-connections N]
                   [--keep-alive-timeout S] [--body-timeout S] [--reload]
    kinto migrate  [--ini FILE] [--dry-run]
    kinto purge-deleted [--ini FILE] RESOURCE [RESOURCE...] MAX_RETAINED
    kinto flush-cache [--ini FILE]
    kinto copy     [--ini FILE | --from INI_OR_URL] --to INI_OR_URL [--merge] [--batch-size N]
    kinto version

Every command takes ``--ini`` (default ``$KINTO_INI``, else ``config/kinto.ini``
when it exists, else built-in SQLite defaults storing in ``./data``), ``-q``
(errors only) and ``-v`` (debug). Exit status: 0 on success, 1 when the
command fails (its reason on stderr, one line), 2 on a usage error.

Plugins add commands through the ``kinto.commands`` entry-point group: the
entry point's name is the command's, its object a callable
``command(env, args) -> int | None`` run with the loaded application
(``env``: ``app``, ``registry``, ``request``, ``settings``) and the parsed
arguments; an ``add_arguments(parser)`` attribute, when present, declares the
command's own arguments, and the callable's docstring is its help.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import pathlib
import sys
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from kinto.server import __version__, configuration, serving, wsgi
from kinto.server.indexes import drop_orphaned_indexes

__all__ = ["CommandError", "main"]

logger = logging.getLogger("kinto.server.cli")

PLUGIN_GROUP = "kinto.commands"
DATABASE_CONNECT_TIMEOUT = 5


class CommandError(Exception):
    """A failure the user can act on: printed as one line, exit status 1."""


# --- the application of a command ----------------------------------------------------------------


@dataclass
class Target:
    """Where a command's settings come from: an ini, or the built-in defaults and their data folder."""

    ini: configuration.IniFile | None
    settings: dict[str, Any]
    data_folder: pathlib.Path | None = None

    @property
    def label(self) -> str:
        if self.ini is not None:
            return str(self.ini.path)
        return f"built-in defaults (SQLite in {self.data_folder})"

    def export(self, environ: dict[str, str]) -> None:
        """Tell the worker processes (``kinto.server.wsgi``) where the settings are."""
        if self.ini is not None:
            environ[wsgi.INI_VARIABLE] = str(self.ini.path.resolve())
            environ.pop(wsgi.DATA_FOLDER_VARIABLE, None)
        else:
            environ[wsgi.INI_VARIABLE] = ""
            environ[wsgi.DATA_FOLDER_VARIABLE] = str(self.data_folder)


def resolve_target(ini_option: str | None) -> Target:
    """The ini named by ``--ini`` (which must exist), else the default ini if present, else built-ins."""
    try:
        if ini_option is not None:
            return _ini_target(configuration.read_ini(ini_option))
        default = configuration.default_ini_path()
        if default.exists():
            return _ini_target(configuration.read_ini(default))
    except configuration.ConfigurationFileError as error:
        raise CommandError(str(error)) from None
    folder = pathlib.Path(os.environ.get(wsgi.DATA_FOLDER_VARIABLE) or configuration.DATA_FOLDER).resolve()
    try:
        settings = configuration.builtin_settings(folder)
    except OSError as error:
        raise CommandError(f"cannot use the data folder {folder}: {error.strerror}") from None
    return Target(ini=None, settings=settings, data_folder=folder)


def _ini_target(ini: configuration.IniFile) -> Target:
    return Target(ini=ini, settings=dict(ini.settings))


def effective_settings(settings: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``settings`` with the settings rule applied to the keys of ``defaults`` (both
    spellings, environment overrides, the defaults' types), for commands that read settings
    before (or without) building the application."""
    from kinto.core.settings import apply_defaults

    effective = dict(settings)
    apply_defaults(effective, defaults)
    return effective


def check_databases(settings: dict[str, Any]) -> None:
    """Connect once to each PostgreSQL database (a ``postgresql://`` URL) the backends' settings name.

    Fails fast, in one line, when a server is down or refuses the credentials,
    instead of a connection pool retrying in the background for its whole timeout.
    """
    from urllib.parse import urlsplit

    from kinto.core.backends import KINDS, mask_url
    from kinto.core.database.postgresql import normalize_url
    from kinto.core.settings import DEFAULT_SETTINGS

    effective = effective_settings(settings, {f"{kind}_url": DEFAULT_SETTINGS[f"{kind}_url"] for kind in KINDS})
    checked = set()
    for kind in KINDS:
        url = normalize_url(str(effective[f"{kind}_url"]))
        if urlsplit(url).scheme != "postgresql" or url in checked:
            continue
        checked.add(url)
        try:
            import psycopg
        except ImportError:
            raise CommandError("PostgreSQL support is not installed: pip install 'kinto-server[postgresql]'") from None
        try:
            psycopg.connect(url, connect_timeout=DATABASE_CONNECT_TIMEOUT).close()
        except psycopg.Error as error:
            raise CommandError(
                f"cannot connect to the {kind} database at {mask_url(url)}: {_one_line(str(error))}"
            ) from None


def load_app(target: Target) -> Any:
    """Build the application; a configuration problem becomes a ``CommandError`` naming its cause."""
    from pyramid.exceptions import ConfigurationError, ConfigurationExecutionError

    from kinto.server import main as make_app

    check_databases(target.settings)
    try:
        return make_app({}, **target.settings)
    except ConfigurationExecutionError as error:
        cause = error.evalue
        raise CommandError(f"invalid configuration in {target.label}: {_describe(cause)}") from error
    except ConfigurationError as error:
        raise CommandError(f"invalid configuration in {target.label}: {_one_line(str(error))}") from error
    except ImportError as error:
        raise CommandError(f"cannot load the application of {target.label}: {_one_line(str(error))}") from error


def _describe(error: BaseException) -> str:
    text = _one_line(str(error))
    if isinstance(error, ImportError):
        return f"cannot import {error.name or text}" if error.name else text
    return text


def _one_line(text: str) -> str:
    return " ".join(text.split())


def close_app(app: Any) -> None:
    """Close the connections the app's backends opened (before a server forks its workers)."""
    from kinto.core.backends import close_backends

    close_backends(app.registry)


def _backend_url(settings: dict[str, Any], kind: str) -> str:
    from kinto.core.backends import mask_url

    url = settings[f"{kind}_url"]
    return f" at {mask_url(str(url))}" if url else ""


def _probe(kind: str, backend: Any) -> None:
    """A read that raises the backend's own error when it cannot answer."""
    if kind == "storage":
        backend.count_all("__kinto_start__", "__kinto_start__")
    elif kind == "permission":
        backend.get_user_principals("__kinto_start__")
    else:
        backend.get("__kinto_start__")


def prepare_backends(app: Any, target: Target) -> list[str]:
    """Create the tables of the backends that declare themselves ``embedded`` (SQLite, memory)
    and check that the others answer.

    Returns the kinds migrated. Raises ``CommandError`` naming the backend that
    does not answer, or whose schema is not this code's (missing, outdated,
    Kinto's), with the command to run.
    """
    from kinto.core.backends import KINDS

    registry = app.registry
    settings = registry.settings
    migrated = []
    for kind in KINDS:
        backend = getattr(registry, kind, None)
        if backend is None:
            continue
        embedded = backend.embedded
        # Before the probe: a storage on another schema answers every call with that same reason.
        problem = None if embedded else getattr(backend, "schema_mismatch", lambda: None)()
        if problem:
            where = _backend_url(settings, kind)
            raise CommandError(f"the {kind} backend{where}: {problem} (settings: {target.label})")
        try:
            if embedded:
                backend.initialize_schema()
                migrated.append(kind)
            else:
                _probe(kind, backend)
        except Exception as error:
            where = _backend_url(settings, kind)
            hint = "" if embedded else f" (a new database needs its tables: kinto migrate --ini {target.label})"
            raise CommandError(f"the {kind} backend{where} does not answer: {_one_line(str(error))}{hint}") from error
    return migrated


# --- commands ---------------------------------------------------------------------------------------


def command_init(args: argparse.Namespace) -> int:
    path = pathlib.Path(args.ini) if args.ini else configuration.default_ini_path()
    if path.exists():
        raise CommandError(f"{path} already exists: not overwriting it (remove it, or choose another --ini)")
    text = configuration.render_ini(
        path,
        backend=args.backend,
        cache_backend=args.cache_backend,
        host=args.host,
        version=__version__,
        auth=args.auth,
    )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # The file holds the HMAC secret of user ids: readable by its owner only.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
            stream.write(text)
    except OSError as error:
        raise CommandError(f"cannot write {path}: {error.strerror}") from None
    _say(args, f"Wrote {path} ({_backend_summary(args.backend, args.cache_backend)}).")
    choices = dict.fromkeys(configuration.BACKENDS[name] for name in (args.backend, args.cache_backend or args.backend))
    if any(choice.server_url for choice in choices):
        _say(args, "Set kinto.storage_url, kinto.permission_url and kinto.cache_url in it (or KINTO_STORAGE_URL...),")
        _say(args, f"then create the tables:  kinto migrate --ini {path}")
    for choice in choices:
        if choice.driver and not _importable(choice.driver):
            _say(args, f"{choice.summary} support is not installed: pip install 'kinto-server[{choice.module}]'")
    if args.auth == "accounts":
        _say(args, f"Create the administrator's account:  kinto create-user --ini {path} --username admin")
    _say(args, f"Start the server:  kinto start --ini {path}")
    return 0


def _backend_summary(backend: str, cache_backend: str | None) -> str:
    summary = configuration.BACKENDS[backend].summary
    if cache_backend and cache_backend != backend:
        summary += f", cache: {configuration.BACKENDS[cache_backend].summary}"
    return summary


def _importable(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def command_start(args: argparse.Namespace) -> int:
    if args.reload and not _under_reloader():
        return _start_reloader(args)
    target = resolve_target(args.ini)
    host, port = _listen_address(args, target)
    options = serving.ServeOptions(
        server=args.server,
        host=host,
        port=port,
        workers=args.workers,
        threads=args.threads,
        queue_size=args.queue_size,
        max_connections=args.max_connections,
        keep_alive_timeout=args.keep_alive_timeout,
        body_timeout=args.body_timeout,
        body_idle_timeout=min(args.keep_alive_timeout, args.body_timeout),
        log_level=args.verbosity or logging.INFO,
    )
    app = load_app(target)
    try:
        prepare_backends(app, target)
        options = _fit_to_backends(app, options)
        options = dataclasses.replace(options, max_body_bytes=app.registry.settings["max_request_body_bytes"])
    finally:
        close_app(app)
    try:
        serving.ensure_port_free(options.host, options.port)
    except serving.PortInUseError as error:
        raise CommandError(str(error)) from None
    if _under_reloader() and target.ini is not None:
        import hupper

        hupper.get_reloader().watch_files([str(target.ini.path.resolve())])
    target.export(os.environ)
    shown_host = f"[{options.host}]" if ":" in options.host else options.host
    logger.info(
        "Kinto %s at http://%s:%s/v1/ (%s, %s worker(s); settings: %s)",
        __version__,
        shown_host,
        options.port,
        options.server,
        options.workers,
        target.label,
    )
    try:
        serving.serve(options)
    except RuntimeError as error:
        raise CommandError(str(error)) from None
    return 0


def _fit_to_backends(app: Any, options: serving.ServeOptions) -> serving.ServeOptions:
    """One worker process when a backend cannot be shared between processes (``supports_concurrent_processes``)."""
    from kinto.core.backends import KINDS

    if options.workers == 1:
        return options
    registry = app.registry
    unshared = [
        kind
        for kind in KINDS
        if getattr(registry, kind, None) is not None and not getattr(registry, kind).supports_concurrent_processes
    ]
    if not unshared:
        return options
    names = ", ".join(f"kinto.{kind}_backend = {registry.settings[f'{kind}_backend']}" for kind in unshared)
    logger.warning(
        "Backends that keep their data inside one process (%s): serving with 1 worker, not %s", names, options.workers
    )
    return dataclasses.replace(options, workers=1)


def _listen_address(args: argparse.Namespace, target: Target) -> tuple[str, int]:
    ini = target.ini
    host = args.host or (ini.host if ini and ini.host else None) or configuration.DEFAULT_HOST
    port = args.port or (ini.port if ini and ini.port else None) or configuration.DEFAULT_PORT
    if args.bind:
        bind_host, separator, bind_port = args.bind.rpartition(":")
        if not separator or not bind_port.isdigit():
            raise CommandError(f"--bind {args.bind!r}: expected HOST:PORT, e.g. 0.0.0.0:8888")
        host, port = bind_host.strip("[]") or host, int(bind_port)
    if not 0 < port < 65536:
        raise CommandError(f"port {port} is not between 1 and 65535")
    return host, port


def _under_reloader() -> bool:
    import hupper

    return bool(hupper.is_active())


def _start_reloader(args: argparse.Namespace) -> int:
    import hupper

    # Time for the server to stop its own worker processes before hupper kills it.
    hupper.start_reloader("kinto.server.cli.main", worker_kwargs={"argv": args.argv}, verbose=0, shutdown_interval=10)
    return 0  # pragma: no cover - start_reloader never returns in the monitoring process


def command_migrate(args: argparse.Namespace) -> int:
    from kinto.core.initialization import migrate

    if args.verbosity is None:
        # The plan and the progress lines are what migrate is run for, whatever the ini's levels.
        for name in ("kinto.core.storage", "kinto.core.permission", "kinto.core.cache"):
            logging.getLogger(name).setLevel(logging.INFO)
    target = resolve_target(args.ini)
    app = load_app(target)
    settings = app.registry.settings
    if settings["readonly"] and not args.dry_run:
        raise CommandError("the server is configured read-only (kinto.readonly = true): migrations would write")
    try:
        done = migrate(app.registry, dry_run=args.dry_run)
    except Exception as error:
        raise CommandError(f"migration failed for {target.label}: {_one_line(str(error))}") from error
    finally:
        close_app(app)
    prefix = "Dry run, nothing changed; would migrate" if args.dry_run else "Migrated"
    _say(args, f"{prefix}: {', '.join(done) or 'nothing to migrate'}.")
    return 0


def load_ready_app(target: Target) -> Any:
    """``load_app``, then the embedded backends' tables created and the others checked."""
    app = load_app(target)
    try:
        prepare_backends(app, target)
    except CommandError:
        close_app(app)
        raise
    return app


def command_purge_deleted(args: argparse.Namespace) -> int:
    if args.max_retained < 0:
        raise CommandError("MAX_RETAINED must be 0 or more")
    target = resolve_target(args.ini)
    app = load_ready_app(target)
    storage = app.registry.storage
    total = 0
    try:
        for resource_name in args.resources:
            total += storage.purge_deleted(resource_name=resource_name, parent_id="*", max_retained=args.max_retained)
        if storage.supports_indexes:
            drop_orphaned_indexes(storage)
    except Exception as error:
        raise CommandError(f"purge failed: {_one_line(str(error))}") from error
    finally:
        close_app(app)
    _say(args, f"{total} tombstone(s) deleted (kept at most {args.max_retained} per collection).")
    return 0


def command_flush_cache(args: argparse.Namespace) -> int:
    target = resolve_target(args.ini)
    app = load_ready_app(target)
    try:
        app.registry.cache.flush()
    except Exception as error:
        raise CommandError(f"cannot flush the cache: {_one_line(str(error))}") from error
    finally:
        close_app(app)
    _say(args, "Cache flushed.")
    return 0


def command_copy(args: argparse.Namespace) -> int:
    from kinto.server import copying

    try:
        if args.source is None:
            source_target = resolve_target(args.ini)
            source_settings, source_label = source_target.settings, source_target.label
        else:
            source_settings, source_label = copying.location_settings(args.source)
        target_settings, target_label = copying.location_settings(args.target)
        if copying.same_location(source_settings, target_settings):
            raise CommandError(f"--from {source_label} and --to {target_label} name the same storage")
        for settings in (source_settings, target_settings):
            check_databases(settings)
        secrets = _hmac_secrets()
        for secret in secrets:
            # User ids and default bucket ids derive from these: another value on the target loses them.
            values = {effective_settings(settings, secrets)[secret] for settings in (source_settings, target_settings)}
            if len(values - {""}) > 1:
                print(
                    f"kinto copy: warning: the two configurations have different kinto.{secret} values: "
                    "ids derived from it will differ on the target (put the source's value in its ini)",
                    file=sys.stderr,
                )
        source = copying.open_store(source_settings, source_label, readonly=True)
        try:
            target = copying.open_store(target_settings, target_label, readonly=False)
        except copying.CopyError:
            source.close()
            raise
    except copying.CopyError as error:
        raise CommandError(str(error)) from None
    try:
        report = copying.copy_store(
            source, target, merge=args.merge, batch_size=args.batch_size, say=lambda message: _say(args, message)
        )
    except copying.CopyError as error:
        raise CommandError(str(error)) from None
    except Exception as error:
        raise CommandError(f"copy failed: {_one_line(str(error))}") from error
    finally:
        source.close()
        target.close()
    _say(
        args,
        f"Copied and verified {report.objects:,} objects, {report.tombstones:,} tombstones "
        f"({report.collections:,} collections), {report.entries:,} access control entries and "
        f"{report.user_principals:,} user principals in {report.seconds:.1f} s. "
        "The cache is not copied (the server refills it).",
    )
    return 0


def _hmac_secrets() -> dict[str, Any]:
    """The secrets ids derive from, with their defaults."""
    from kinto.core.settings import DEFAULT_SETTINGS

    from kinto.plugins.default_bucket import DEFAULT_SETTINGS as DEFAULT_BUCKET_SETTINGS

    return {
        "userid_hmac_secret": DEFAULT_SETTINGS["userid_hmac_secret"],
        "default_bucket_hmac_secret": DEFAULT_BUCKET_SETTINGS["default_bucket_hmac_secret"],
    }


def command_version(args: argparse.Namespace) -> int:
    print(__version__)
    return 0


def _plugin_runner(name: str, command: Callable[..., Any]) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        from pyramid.scripting import prepare

        target = resolve_target(args.ini)
        app = load_ready_app(target)
        env = prepare(registry=app.registry)
        try:
            result = command({**env, "app": app, "settings": app.registry.settings}, args)
        finally:
            env["closer"]()
            close_app(app)
        return int(result or 0)

    return run


def _broken_plugin(name: str, error: Exception) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        raise CommandError(f"the plugin command {name!r} cannot be loaded: {type(error).__name__}: {error}")

    return run


def _say(args: argparse.Namespace, message: str) -> None:
    if args.verbosity != logging.CRITICAL:
        print(message)


# --- the parser -------------------------------------------------------------------------------------


@dataclass
class _Command:
    name: str
    handler: Callable[[argparse.Namespace], int]
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None] | None = None


def _init_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--backend",
        choices=configuration.BACKENDS,
        default="sqlite",
        help="where objects and permissions are stored (default: sqlite, files in ./data)",
    )
    parser.add_argument(
        "--cache-backend",
        choices=configuration.BACKENDS,
        default=None,
        help="where the cache lives (default: the same as --backend)",
    )
    parser.add_argument(
        "--host", default=configuration.DEFAULT_HOST, help="the address the server will listen on (default: 127.0.0.1)"
    )
    parser.add_argument(
        "--auth",
        choices=configuration.AUTHENTICATIONS,
        default="accounts",
        help="how users log in: accounts stored by the server, as Kinto's template (the default), "
        "or Basic Auth where any user:password pair is a user",
    )


def _start_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--server", choices=serving.SERVERS, default="granian", help="the WSGI server (default: granian)"
    )
    parser.add_argument("--host", default=None, help="listen on this address (default: the ini's, else 127.0.0.1)")
    parser.add_argument("--port", type=int, default=None, help="listening port number (default: the ini's, else 8888)")
    parser.add_argument("--bind", default=None, metavar="HOST:PORT", help="listen on HOST:PORT (wins over the others)")
    parser.add_argument("--workers", type=_positive, default=1, help="worker processes (default: 1)")
    parser.add_argument("--threads", type=_positive, default=4, help="threads per worker process (default: 4)")
    defaults = serving.ServeOptions()
    parser.add_argument(
        "--queue-size",
        type=_positive,
        default=defaults.queue_size,
        help="requests waiting for a thread, per worker, before the next get a 503 with Retry-After "
        f"(default: {defaults.queue_size})",
    )
    parser.add_argument(
        "--max-connections",
        type=_positive,
        default=defaults.max_connections,
        help=f"open connections per worker, idle ones included (default: {defaults.max_connections})",
    )
    parser.add_argument(
        "--keep-alive-timeout",
        type=_positive,
        default=defaults.keep_alive_timeout,
        metavar="SECONDS",
        help="idle keep-alive connections, and clients slow to send their headers, are closed after "
        f"this (default: {defaults.keep_alive_timeout})",
    )
    parser.add_argument(
        "--body-timeout",
        type=_positive,
        default=defaults.body_timeout,
        metavar="SECONDS",
        help="a request body must arrive within this, with at most --keep-alive-timeout of silence "
        f"(default: {defaults.body_timeout})",
    )
    parser.add_argument("--reload", action="store_true", help="restart when the code or the ini change (development)")


def _migrate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dry-run", action="store_true", help="show what would be done, change nothing")


def _purge_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("resources", nargs="+", metavar="RESOURCE", help="resource names, e.g. record collection")
    parser.add_argument(
        "max_retained", type=int, metavar="MAX_RETAINED", help="tombstones to keep per collection (the newest ones)"
    )


def _copy_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--from",
        dest="source",
        default=None,
        metavar="INI_OR_URL",
        help="where to copy from: an ini file, sqlite:///path/kinto.sqlite or postgresql://... "
        "(default: the server's own settings, as --ini finds them)",
    )
    parser.add_argument(
        "--to",
        dest="target",
        required=True,
        metavar="INI_OR_URL",
        help="where to copy to: an ini file or a backend URL; its tables are created if missing",
    )
    parser.add_argument(
        "--merge",
        action="store_true",
        help="copy into a target that already holds data (same ids are replaced by the source's)",
    )
    parser.add_argument(
        "--batch-size",
        type=_positive,
        default=2000,
        metavar="N",
        help="objects read and written at a time, a progress line every 5 batches (default: 2000)",
    )


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


BUILTIN_COMMANDS = (
    _Command("init", command_init, "write a commented configuration file", _init_arguments),
    _Command("start", command_start, "serve the Kinto API", _start_arguments),
    _Command(
        "migrate",
        command_migrate,
        "create or upgrade the backends' tables and run plugin migrations",
        _migrate_arguments,
    ),
    _Command("purge-deleted", command_purge_deleted, "delete old tombstones", _purge_arguments),
    _Command("flush-cache", command_flush_cache, "empty the cache backend"),
    _Command(
        "copy",
        command_copy,
        "copy every object and permission to another backend (SQLite to PostgreSQL...)",
        _copy_arguments,
    ),
    _Command("version", command_version, "print the version"),
)


def plugin_commands() -> list[_Command]:
    """The commands of the ``kinto.commands`` entry-point group (a broken plugin fails only when run)."""
    builtin = {command.name for command in BUILTIN_COMMANDS}
    commands = []
    for entry_point in sorted(metadata.entry_points(group=PLUGIN_GROUP), key=lambda ep: ep.name):
        if entry_point.name in builtin:
            logger.warning("Ignoring the plugin command %r: it is a built-in command", entry_point.name)
            continue
        try:
            command = entry_point.load()
        except Exception as error:  # noqa: BLE001 -- a broken plugin must not break every other command
            commands.append(
                _Command(entry_point.name, _broken_plugin(entry_point.name, error), f"(cannot be loaded: {error})")
            )
            continue
        doc = (getattr(command, "__doc__", None) or f"provided by {entry_point.value}").strip().splitlines()[0]
        commands.append(
            _Command(
                entry_point.name,
                _plugin_runner(entry_point.name, command),
                doc,
                getattr(command, "add_arguments", None),
            )
        )
    return commands


def build_parser(commands: Sequence[_Command]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kinto", description="Run and administer a Kinto server.")
    subparsers = parser.add_subparsers(title="commands", dest="command", metavar="COMMAND")
    subparsers.required = True
    for command in commands:
        subparser = subparsers.add_parser(command.name, help=command.help, description=command.help)
        subparser.set_defaults(handler=command.handler)
        subparser.add_argument(
            "--ini",
            default=None,
            metavar="FILE",
            help="configuration file (default: $KINTO_INI, else config/kinto.ini if it exists, else SQLite in ./data)",
        )
        subparser.add_argument(
            "-q",
            "--quiet",
            action="store_const",
            const=logging.CRITICAL,
            dest="verbosity",
            help="show only critical errors",
        )
        subparser.add_argument(
            "-v",
            "--debug",
            action="store_const",
            const=logging.DEBUG,
            dest="verbosity",
            help="show every message, debug ones included",
        )
        if command.add_arguments is not None:
            command.add_arguments(subparser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default: ``sys.argv[1:]``); return the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    # Pyramid imports pkg_resources, which recent setuptools flag on every start: noise for users.
    warnings.filterwarnings("ignore", message="pkg_resources is deprecated", category=UserWarning)
    parser = build_parser([*BUILTIN_COMMANDS, *plugin_commands()])
    args = parser.parse_args(argv)
    args.argv = argv
    _configure_logging(args)
    try:
        return args.handler(args)
    except CommandError as error:
        logger.debug("Command failed", exc_info=True)
        print(f"kinto {args.command}: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _configure_logging(args: argparse.Namespace) -> None:
    ini = None
    if args.command in ("start", "migrate", "purge-deleted", "flush-cache", "copy") or args.handler not in {
        command.handler for command in BUILTIN_COMMANDS
    }:
        try:
            path = pathlib.Path(args.ini) if args.ini else configuration.default_ini_path()
            ini = configuration.read_ini(path) if path.exists() else None
        except configuration.ConfigurationFileError:
            ini = None  # reported by the command itself
    configuration.configure_logging(ini, args.verbosity)
