"""Where the ``kinto`` command gets its settings: an ini file, or built-in SQLite defaults.

An ini is read the way PasteDeploy reads it (``%(here)s`` is its folder, keys keep
their case): the settings are ``[app:main]`` without ``use`` (so an ini written
for Kinto, ``use = egg:kinto``, serves this server unchanged), and
``[server:main]`` gives ``host`` and ``port`` (or ``listen = host:port``).

Without an ini, the server stores everything in SQLite files of a data folder
(``./data``): ``kinto.sqlite`` for objects and permissions (one file, so that
a request's objects and permissions commit or roll back together) and
``cache.sqlite`` for the cache; the Basic Auth HMAC secret is generated once
into ``userid_hmac_secret`` there.
"""

from __future__ import annotations

import configparser
import dataclasses
import logging
import logging.config
import os
import pathlib
import pkgutil
import secrets
import string
import time
from importlib import resources

__all__ = [
    "AUTHENTICATIONS",
    "BACKENDS",
    "BackendChoice",
    "ConfigurationFileError",
    "IniFile",
    "builtin_plugins",
    "builtin_settings",
    "default_ini_path",
    "read_ini",
    "render_ini",
]

logger = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8888
DATA_FOLDER = "data"
SECRET_FILE = "userid_hmac_secret"

PASTE_DEFAULTS = ("here", "__file__", "http_port")


@dataclasses.dataclass(frozen=True)
class BackendChoice:
    """A choice of ``kinto init --backend`` (and ``--cache-backend``): the core's backends it writes.

    ``module`` is the last part of ``kinto.core.<kind>.<module>``. The backends keep ``files``
    in the data folder, or use a database server: ``server_url`` is then the placeholder the
    operator replaces, and the tables are created by ``kinto migrate``. ``driver`` is the module
    those backends import, installed by the server's extra named like ``module``.
    """

    module: str
    summary: str
    comment: str
    files: bool = False
    server_url: str | None = None
    driver: str | None = None


#: The choices of ``kinto init --backend`` and ``--cache-backend``, by name.
BACKENDS = {
    "sqlite": BackendChoice(
        "sqlite", "SQLite in ./data", "SQLite files (no service needed); several processes may share them.", files=True
    ),
    "postgresql": BackendChoice(
        "postgresql",
        "PostgreSQL",
        "PostgreSQL (pip install 'kinto-server[postgresql]'); run `kinto migrate` once.",
        server_url="postgresql://postgres:postgres@localhost/postgres",
        driver="psycopg",
    ),
    "memory": BackendChoice(
        "memory", "in memory, nothing persists", "In memory: nothing persists across restarts, one process only."
    ),
}
#: How users log in, the choices of ``kinto init --auth``: accounts (Kinto's template), or Basic Auth alone.
AUTHENTICATIONS = ("accounts", "basicauth")
#: The built-in plugins an ini of ``kinto init`` turns on, as Kinto's template does (those installed);
#: it names the others in comments. Accounts only with ``--auth accounts``.
PLUGINS_ON = ("default_bucket", "admin", "accounts")


class ConfigurationFileError(Exception):
    """An ini file that cannot be used: missing, unreadable, or without ``[app:main]``."""


@dataclasses.dataclass
class IniFile:
    """What the command needs from an ini: the app's settings, where to listen, the logging sections."""

    path: pathlib.Path
    settings: dict[str, str]
    host: str | None = None
    port: int | None = None
    has_logging: bool = False


def default_ini_path() -> pathlib.Path:
    """``$KINTO_INI``, else ``config/kinto.ini`` (Kinto's default place)."""
    return pathlib.Path(os.environ.get("KINTO_INI") or os.path.join("config", "kinto.ini"))


def _parser(path: pathlib.Path) -> configparser.ConfigParser:
    here = str(path.resolve().parent)
    # The names PasteDeploy defines; Kinto's own ini writes ``port = %(http_port)s``.
    defaults = {"here": here, "__file__": str(path.resolve()), "http_port": str(DEFAULT_PORT)}
    parser = configparser.ConfigParser(defaults=defaults)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # setting names keep their case
    try:
        with path.open(encoding="utf-8") as stream:
            parser.read_file(stream)
    except FileNotFoundError:
        raise ConfigurationFileError(f"{path}: no such file (create one with `kinto init --ini {path}`)") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigurationFileError(f"{path}: cannot read it: {error}") from None
    except configparser.Error as error:
        raise ConfigurationFileError(f"{path}: not a valid ini file: {_one_line(error)}") from None
    return parser


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())


def _section(parser: configparser.ConfigParser, path: pathlib.Path, name: str) -> dict[str, str]:
    try:
        return dict(parser.items(name))
    except configparser.Error as error:
        raise ConfigurationFileError(f"{path}: in [{name}]: {_one_line(error)}") from None


def read_ini(path: str | os.PathLike[str]) -> IniFile:
    """Read ``path``; ``ConfigurationFileError`` with a one-line reason when it cannot be used."""
    path = pathlib.Path(path)
    parser = _parser(path)
    if not parser.has_section("app:main"):
        raise ConfigurationFileError(f"{path}: no [app:main] section (the server's settings go there)")
    settings = {
        key: value for key, value in _section(parser, path, "app:main").items() if key not in ("use", *PASTE_DEFAULTS)
    }
    ini = IniFile(path=path, settings=settings, has_logging=parser.has_section("loggers"))
    if parser.has_section("server:main"):
        server = _section(parser, path, "server:main")
        ini.host, ini.port = _address(server, path)
    return ini


def _address(server: dict[str, str], path: pathlib.Path) -> tuple[str | None, int | None]:
    host, port = server.get("host"), server.get("port")
    listen = server.get("listen", "").split()
    if listen and ":" in listen[0]:
        host, _, port = listen[0].rpartition(":")
    if port in (None, ""):
        return host, None
    try:
        return host, int(port)
    except ValueError:
        raise ConfigurationFileError(f"{path}: in [server:main]: port {port!r} is not a number") from None


def configure_logging(ini: IniFile | None, level: int | None) -> None:
    """Logging from the ini's sections when it has usable ones, else plain lines on stderr.

    ``level`` (from ``-q``/``-v``) wins over the ini's levels. An ini written for
    Kinto names handler classes of Kinto's own package: those sections are then
    skipped with a warning rather than stopping the server.
    """
    if ini is not None and ini.has_logging:
        try:
            logging.config.fileConfig(
                ini.path,
                defaults={"here": str(ini.path.resolve().parent), "__file__": str(ini.path.resolve())},
                disable_existing_loggers=False,
            )
        except Exception as error:  # noqa: BLE001 -- a Kinto ini names handlers of Kinto's own package
            logging.basicConfig(level=level or logging.INFO, format="%(levelname)-5.5s %(message)s")
            logger.warning("Ignoring the logging sections of %s: %s", ini.path, _one_line(error))
        else:
            if level is not None:
                # "request.summary": the core's per-request line, under Kinto's logger name.
                for name in (None, "kinto", "request.summary"):
                    logging.getLogger(name).setLevel(level)
            return
    logging.basicConfig(level=level or logging.INFO, format="%(levelname)-5.5s %(message)s")
    if level is not None:
        logging.getLogger().setLevel(level)


# --- built-in defaults ----------------------------------------------------------------------------


def _sqlite_url(path: pathlib.Path) -> str:
    return f"sqlite:///{path}"


def data_secret(data_folder: pathlib.Path) -> str:
    """The HMAC secret kept in ``data_folder``, generated on first use (readable by its owner only)."""
    path = data_folder / SECRET_FILE
    try:
        secret = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        secret = ""
    if secret:
        return secret
    data_folder.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_hex(32)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process wrote it meanwhile: use theirs
        time.sleep(0.1)
        return data_secret(data_folder)
    with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
        stream.write(secret + "\n")
    return secret


def builtin_settings(data_folder: str | os.PathLike[str] = DATA_FOLDER) -> dict[str, str]:
    """The settings used when no ini is found: SQLite files and the secret in ``data_folder``."""
    folder = pathlib.Path(data_folder).resolve()
    objects = _sqlite_url(folder / "kinto.sqlite")
    return {
        "kinto.storage_backend": "kinto.core.storage.sqlite",
        "kinto.storage_url": objects,
        "kinto.permission_backend": "kinto.core.permission.sqlite",
        "kinto.permission_url": objects,
        "kinto.cache_backend": "kinto.core.cache.sqlite",
        "kinto.cache_url": _sqlite_url(folder / "cache.sqlite"),
        "kinto.userid_hmac_secret": data_secret(folder),
        "multiauth.policies": "basicauth",
        "kinto.bucket_create_principals": "system.Authenticated",
        "kinto.experimental_collection_schema_validation": "true",
        "kinto.experimental_permissions_endpoint": "true",
    }


# --- kinto init -----------------------------------------------------------------------------------


def _backend_values(kind: str, backend: str, data_url: str, cache_url: str) -> dict[str, str]:
    choice = BACKENDS[backend]
    url = (cache_url if kind == "cache" else data_url) if choice.files else choice.server_url or ""
    return {f"{kind}_backend": f"kinto.core.{kind}.{choice.module}", f"{kind}_url": url}


def render_ini(
    ini_path: str | os.PathLike[str],
    backend: str = "sqlite",
    cache_backend: str | None = None,
    host: str = DEFAULT_HOST,
    data_folder: str | os.PathLike[str] = DATA_FOLDER,
    version: str = "",
    auth: str = "accounts",
) -> str:
    """The text of a commented ini for ``backend`` (and ``cache_backend``, default: the same).

    SQLite paths are written relative to the ini's folder (``%(here)s``), so the
    file works whatever the current folder is when the server starts. ``auth`` is one
    of :data:`AUTHENTICATIONS`; the built-in plugins of :data:`PLUGINS_ON` are on,
    the other built-in plugins named in comments.
    """
    cache_backend = cache_backend or backend
    ini_folder = pathlib.Path(ini_path).resolve().parent
    relative = os.path.relpath(pathlib.Path(data_folder).resolve(), ini_folder)
    data_url = f"sqlite:///%(here)s/{pathlib.PurePosixPath(*pathlib.Path(relative).parts)}/kinto.sqlite"
    cache_url = data_url.replace("/kinto.sqlite", "/cache.sqlite")
    values = {
        "created": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "version": version,
        "ini": str(ini_path),
        "host": host,
        "secret": secrets.token_hex(32),
        "bucket_secret": secrets.token_hex(32),
        "backend_comment": _backend_comment(backend, cache_backend),
        "includes": _includes(auth),
        "authentication": _AUTHENTICATION[auth].strip("\n").replace("${ini}", str(ini_path)),
        "policies": "account" if auth == "accounts" else "basicauth",
        "bucket_create_principals": "account:admin" if auth == "accounts" else "system.Authenticated",
    }
    values.update(_backend_values("storage", backend, data_url, cache_url))
    values.update(_backend_values("permission", backend, data_url, cache_url))
    values.update(_backend_values("cache", cache_backend, data_url, cache_url))
    template = resources.files("kinto.server").joinpath("kinto.ini.tpl").read_text(encoding="utf-8")
    return string.Template(template).substitute(values)


def builtin_plugins() -> list[str]:
    """The names of the server's built-in plugins (``kinto.plugins.<name>``), sorted."""
    import kinto.plugins

    return sorted(module.name for module in pkgutil.iter_modules(kinto.plugins.__path__))


def _includes(auth: str) -> str:
    """``kinto.includes``: the plugins on, one per line, then the other built-in ones commented out."""
    available = builtin_plugins()
    on = [name for name in PLUGINS_ON if name in available and (name != "accounts" or auth == "accounts")]
    indent = " " * len("kinto.includes = ")
    lines = [f"kinto.includes = kinto.plugins.{on[0]}"] if on else ["# kinto.includes ="]
    lines += [f"{indent}kinto.plugins.{name}" for name in on[1:]]
    lines += ["#" + indent[1:] + f"kinto.plugins.{name}" for name in available if name not in on]
    return "\n".join(lines)


_AUTHENTICATION = {
    "accounts": """
# Accounts (kinto.plugins.accounts): users sign up with
#   PUT /v1/accounts/<username>  {"data": {"password": "..."}}
# then log in with Basic Auth as that username and password.
multiauth.policies = account
multiauth.policy.account.use = kinto.plugins.accounts.AccountsPolicy
# Who may sign up, and who administers every account (and may create buckets, below). Nobody can
# sign up under an administrator's name: create it with  kinto create-user --ini ${ini} --username admin
kinto.account_create_principals = system.Everyone
kinto.account_write_principals = account:admin
kinto.account_reserve_admin_names = true
# Basic Auth without accounts instead: any user:password pair is a user, identified by the HMAC
# of the pair with kinto.userid_hmac_secret.
# multiauth.policies = basicauth
""",
    "basicauth": """
# Basic Auth without accounts: any user:password pair is a user, identified by the HMAC of the
# pair with kinto.userid_hmac_secret.
multiauth.policies = basicauth
# Accounts instead (add kinto.plugins.accounts to kinto.includes; kinto create-user makes one):
# multiauth.policies = account
# multiauth.policy.account.use = kinto.plugins.accounts.AccountsPolicy
# kinto.account_create_principals = system.Everyone
# kinto.account_write_principals = account:admin
""",
}


def _backend_comment(backend: str, cache_backend: str) -> str:
    text = f"Storage and permissions: {BACKENDS[backend].comment}"
    if cache_backend != backend:
        text += f"\n# Cache: {BACKENDS[cache_backend].comment}"
    return text
