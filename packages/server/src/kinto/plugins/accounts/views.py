"""``/accounts`` and ``/accounts/<username>``: who may log in with the ``account`` policy.

Each account is stored under its own username as parent id (as Kinto stores
it), so that a user lists and reads only their own account, while the
principals of ``account_write_principals`` (administrators) list every
account (parent ``*``) and reach any. Whoever creates an account (somebody
anonymous signing up, or an administrator) makes it writable by
``account:<username>`` itself. Passwords are stored as bcrypt hashes and never
answered. With ``account_reserve_admin_names = true`` (what ``kinto init``
writes), nobody signs up under a username that ``account_write_principals``
names (``account:admin``): administrators are then created with ``kinto
create-user`` or by another administrator. Off by default, as in Kinto, whose
configurations let the first comer take that name (kinto-http's test suite
relies on it).
"""

from __future__ import annotations

from typing import Any, ClassVar

from kinto.core import resource
from kinto.core.errors import ERRORS, http_error, raise_invalid
from kinto.core.events import ACTIONS, ResourceChanged
from kinto.core.resource import ShareableResource
from kinto.core.settings import as_bool, as_list
from pyramid import httpexceptions
from pyramid.events import subscriber

from kinto.plugins.accounts.authentication import (
    ACCOUNT_POLICY_NAME,
    MAX_PASSWORD_BYTES,
    bcrypt_rounds,
    forget_login,
    hash_password,
)
from kinto.server.ids import NameGenerator

__all__ = ["Account", "AccountIdGenerator"]


class AccountIdGenerator(NameGenerator):
    """Usernames: letters, digits and ``+ . @ _ -`` (e-mail addresses fit); a POST must name its own."""

    regexp = r"^[a-zA-Z0-9][+.@a-zA-Z0-9_-]*$"


def is_administrator(request: Any) -> bool:
    admins = set(as_list(request.registry.settings.get("account_write_principals", "")))
    return bool(admins & set(request.prefixed_principals))


def _names_an_administrator(settings: dict[str, Any], username: str) -> bool:
    """Whether ``username`` is reserved: an administrator's, with ``account_reserve_admin_names`` on."""
    if not as_bool(settings.get("account_reserve_admin_names", False)):
        return False
    return f"{ACCOUNT_POLICY_NAME}:{username}" in set(as_list(settings.get("account_write_principals", "")))


def _posted_id(request: Any) -> str:
    """The username a POST names (``data.id``): required, as the parent id is the username."""
    try:
        body = request.json_body if request.body else None
    except (ValueError, httpexceptions.HTTPException):
        body = None
    data = body.get("data") if isinstance(body, dict) else None
    username = data.get("id") if isinstance(data, dict) else None
    if isinstance(username, str) and username:
        return username
    if request.method == "POST":
        # Kinto's body, word for word: the description repeats the name, the message does not double it.
        raise_invalid(
            request,
            location="body",
            name="data.id",
            description="data.id in body: Required",
            message="data.id in body: Required",
        )
    raise http_error(
        httpexceptions.HTTPUnauthorized(), errno=ERRORS.MISSING_AUTH_TOKEN, message="Cannot read accounts."
    )


@resource.register(name="account", plural_path="/accounts", object_path="/accounts/{{id}}")
class Account(ShareableResource):
    """Accounts: ``{"data": {"id": "<username>", "password": "..."}}``."""

    schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {"password": {"type": "string", "minLength": 1}},
        "required": ["password"],
    }
    id_generator = AccountIdGenerator
    # Nobody may create accounts unless account_create_principals says so (as in Kinto).
    default_principals: ClassVar[dict[str, tuple[str, ...]]] = {}

    def __init__(self, request: Any, context: Any = None, **kwargs: Any) -> None:
        super().__init__(request, context=context, **kwargs)
        if request.prefixed_userid is None or is_administrator(request):
            # Somebody signing up, or an administrator: the account belongs to its own user.
            self.model.current_principal = f"{ACCOUNT_POLICY_NAME}:{self.model.parent_id}"

    @classmethod
    def allowed_principals(cls, context: Any, permission: str) -> set[str]:
        allowed = super().allowed_principals(context, permission)
        if permission == "read":  # administrators (write on every account) read every account
            allowed |= super().allowed_principals(context, "write")
        return allowed

    def get_parent_id(self, request: Any) -> str:
        matchdict = request.matchdict or {}
        if is_administrator(request):
            if "id" in matchdict:
                return matchdict["id"]
            return _posted_id(request) if request.method == "POST" else "*"
        identity = request.kinto_identity
        if identity is not None:
            return identity.userid if identity.policy_name == ACCOUNT_POLICY_NAME else identity.prefixed_userid
        if "id" in matchdict:
            return matchdict["id"]
        return _posted_id(request)

    def process_object(self, new: dict[str, Any], old: dict[str, Any] | None = None) -> dict[str, Any]:
        new = super().process_object(new, old)
        body = self.request.json_body if self.request.body else {}
        data = body.get("data") if isinstance(body, dict) else None
        if isinstance(data, dict) and isinstance(data.get("password"), str) and data["password"]:
            if len(data["password"].encode("utf-8")) > MAX_PASSWORD_BYTES:
                raise_invalid(
                    self.request,
                    location="body",
                    name="data.password",
                    description=f"At most {MAX_PASSWORD_BYTES} bytes (UTF-8): bcrypt reads no more",
                )
            new = {**new, "password": hash_password(data["password"], bcrypt_rounds(self.settings))}
        username = new.get(self.id_field)
        if not username:
            raise_invalid(self.request, location="body", name="data.id", description="Accounts must have an ID.")
        if old is None and not is_administrator(self.request) and _names_an_administrator(self.settings, username):
            # Whoever signed up first as ``admin`` would administer every account (Kinto lets them).
            raise http_error(
                httpexceptions.HTTPForbidden(),
                errno=ERRORS.FORBIDDEN,
                message=f"The account {username!r} is an administrator's: create it with "
                "`kinto create-user`, or as another administrator",
            )
        identity = self.request.kinto_identity
        if identity is not None and not is_administrator(self.request) and username != self.model.parent_id:
            raise_invalid(
                self.request, location="body", name="data.id", description="Username and account ID do not match."
            )
        return new

    def present(self, obj: dict[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in super().present(obj).items() if key != "password"}


@subscriber(ResourceChanged, for_resources=("account",), for_actions=(ACTIONS.UPDATE, ACTIONS.DELETE))
def forget_changed_logins(event: Any) -> None:
    """A changed password or a deleted account must not log in from the cache any more."""
    for change in event.impacted_objects:
        forget_login(event.request.registry, change["old"]["id"])
