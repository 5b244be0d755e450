"""Accounts: users who log in with a username and a password stored by the server.

Enable it as Kinto's is enabled::

    kinto.includes = kinto.plugins.accounts
    multiauth.policies = account
    multiauth.policy.account.use = kinto.plugins.accounts.AccountsPolicy
    # Who may sign up (anybody here), and who administers every account.
    kinto.account_create_principals = system.Everyone
    kinto.account_write_principals = account:admin

Users are ``account:<username>``; ``kinto create-user`` creates one from the
command line. Settings (Kinto's names): ``account_create_principals``,
``account_write_principals`` (administrators: they read, change and delete any
account and create accounts for others), ``account_read_principals``,
``account_cache_ttl_seconds`` (30: how long a checked login is remembered),
``account_bcrypt_rounds`` (12: the cost of new password hashes; ours, not Kinto's),
``account_reserve_admin_names`` (false, as Kinto: true refuses sign-ups under the usernames
``account_write_principals`` names; ``kinto init`` writes true).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from kinto.core.settings import as_bool, as_list
from pyramid.exceptions import ConfigurationError

from kinto.plugins.accounts.authentication import (
    ACCOUNT_CACHE_KEY,
    ACCOUNT_POLICY_NAME,
    AccountsAuthenticationPolicy,
    AccountsPolicy,
    hash_password,
)

__all__ = [
    "ACCOUNT_CACHE_KEY",
    "ACCOUNT_POLICY_NAME",
    "AccountsAuthenticationPolicy",
    "AccountsPolicy",
    "hash_password",
    "includeme",
]

logger = logging.getLogger(__name__)
DOCS = "https://kinto.readthedocs.io/en/latest/api/1.x/accounts.html"
_POLICY_SETTING = re.compile(r"^multiauth\.policy\.(?P<name>.+)\.use$")


def _account_policy_name(settings: dict[str, Any]) -> str | None:
    for key, value in settings.items():
        match = _POLICY_SETTING.match(key)
        if match and str(value).rsplit(".", 1)[-1] in ("AccountsPolicy", "AccountsAuthenticationPolicy"):
            return match.group("name")
    return None


def _check_settings(settings: dict[str, Any]) -> None:
    policy = _account_policy_name(settings)
    if policy is None:
        raise ConfigurationError(
            "kinto.plugins.accounts needs its authentication policy: "
            "multiauth.policy.account.use = kinto.plugins.accounts.AccountsPolicy "
            "(and `account` in multiauth.policies)"
        )
    policies = as_list(settings.get("multiauth.policies", ""))
    if "basicauth" in policies and policy in policies and policies.index("basicauth") < policies.index(policy):
        # basicauth accepts any password: asked first, it would take every account's login.
        raise ConfigurationError(f"multiauth.policies: 'basicauth' must come after {policy!r}")
    creators = set(as_list(settings.get("account_create_principals", "")))
    admins = set(as_list(settings.get("account_write_principals", "")))
    only_own = creators - admins - {"system.Everyone"}
    if only_own:
        raise ConfigurationError(
            "account_create_principals names principals that are not in account_write_principals: they could "
            f"only create their own account, which they already have ({', '.join(sorted(only_own))}); add them "
            "to account_write_principals to let them create accounts for others"
        )


def _warn_about_open_admin_names(settings: dict[str, Any]) -> None:
    creators = set(as_list(settings.get("account_create_principals", "")))
    admins = [
        principal
        for principal in as_list(settings.get("account_write_principals", ""))
        if principal.startswith(f"{ACCOUNT_POLICY_NAME}:")
    ]
    if "system.Everyone" in creators and admins and not as_bool(settings.get("account_reserve_admin_names", False)):
        logger.warning(
            "Anybody may sign up as %s and administer every account: create those accounts with "
            "`kinto create-user` now, or set kinto.account_reserve_admin_names = true",
            ", ".join(admins),
        )


def includeme(config: Any) -> None:
    settings = config.get_settings()
    _check_settings(settings)
    _warn_about_open_admin_names(settings)
    config.add_api_capability("accounts", description="Manage user accounts.", url=DOCS, validation_enabled=False)
    from kinto.server.views.permissions import register_object_uri

    register_object_uri(config.registry, "account", r"^/accounts/(?P<account_id>[^/]+)$", implied={"write": {"read"}})
    config.scan("kinto.plugins.accounts.views")
