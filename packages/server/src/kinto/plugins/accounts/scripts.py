"""``kinto create-user``: create (or reset the password of) an account from the command line."""

from __future__ import annotations

import argparse
import getpass
from typing import Any

from kinto.core.settings import as_bool, as_list

from kinto.plugins.accounts.authentication import (
    ACCOUNT_POLICY_NAME,
    MAX_PASSWORD_BYTES,
    bcrypt_rounds,
    forget_login,
    hash_password,
)
from kinto.plugins.accounts.views import AccountIdGenerator

__all__ = ["create_user"]


class CommandRefused(Exception):
    """The server's configuration does not allow creating a user."""


def _ask_username(validator: AccountIdGenerator) -> str:
    while True:
        username = input("Username: ").strip()
        if validator.match(username):
            return username
        print(f"{username!r} is not a valid username: it must match {validator.regexp}")


def _ask_password(username: str) -> str:
    while True:
        password = getpass.getpass(f"Password for {username}: ")
        if password and password == getpass.getpass("Password again: "):
            return password
        print("The passwords are empty or differ, try again.")


def create_user(env: dict[str, Any], args: argparse.Namespace) -> int:
    """create an account (prompts for what --username/--password do not give)"""
    registry = env["registry"]
    settings = registry.settings
    if as_bool(settings.get("readonly", False)):
        print("kinto create-user: error: the server is read-only (readonly = true)")
        return 51
    if "kinto.plugins.accounts" not in as_list(settings.get("includes", "")):
        print("kinto create-user: error: the accounts plugin is not enabled (kinto.includes = kinto.plugins.accounts)")
        return 52
    validator = AccountIdGenerator()
    try:
        username = args.username if args.username is not None else _ask_username(validator)
        if not validator.match(username):
            print(f"kinto create-user: error: {username!r} is not a valid username (it must match {validator.regexp})")
            return 2
        password = args.password if args.password is not None else _ask_password(username)
    except (EOFError, KeyboardInterrupt):
        print("\nUser creation aborted.")
        return 53
    if not password:
        print("kinto create-user: error: the password is empty")
        return 2
    if len(password.encode("utf-8")) > MAX_PASSWORD_BYTES:
        print(
            f"kinto create-user: error: the password is longer than {MAX_PASSWORD_BYTES} bytes (bcrypt reads no more)"
        )
        return 2
    storage, permission = registry.storage, registry.permission
    with storage.transaction(), permission.transaction():
        storage.update(
            "account",
            username,
            username,
            {"id": username, "password": hash_password(password, bcrypt_rounds(settings))},
        )
        permission.add_principal_to_ace(f"/accounts/{username}", "write", f"{ACCOUNT_POLICY_NAME}:{username}")
    forget_login(registry, username)
    print(f"User {username!r} is ready: log in as {ACCOUNT_POLICY_NAME}:{username}.")
    return 0


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-u", "--username", default=None, help="the username (asked when missing)")
    parser.add_argument("-p", "--password", default=None, help="the password (asked when missing, not echoed)")


create_user.add_arguments = _add_arguments  # type: ignore[attr-defined]
