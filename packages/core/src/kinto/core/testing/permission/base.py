"""The permission suite's objects, shared steps and base class (its fixture).

The topic modules of :mod:`kinto.core.testing.permission` build on it.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from kinto.core.permission import PermissionBase

BUCKET = "/buckets/b1"
COLLECTION = "/buckets/b1/collections/c1"
RECORD = "/buckets/b1/collections/c1/records/r1"


class Boom(Exception):
    """Raised inside transactions to make them roll back."""


def _grant(permission: PermissionBase, object_id: str, permissions: dict[str, list[str]]) -> None:
    """Add each principal of ``permissions`` (permission -> principals) to the object's entries."""
    for name, principals in permissions.items():
        for principal in principals:
            permission.add_principal_to_ace(object_id, name, principal)


def _reference_match(pattern: str, object_id: str, with_children: bool) -> bool:
    # Written independently of the backends' matcher: a plain regex, built from the documented rule.
    wildcard = ".*" if with_children else "[^/]+"
    regex = wildcard.join(re.escape(part) for part in pattern.split("*"))
    return re.fullmatch(regex, object_id, flags=re.DOTALL) is not None


class PermissionSuite:
    """What every part of the suite uses: the ``permission`` fixture."""

    @pytest.fixture
    def permission(self, backend_factory: Any) -> PermissionBase:
        return backend_factory()
