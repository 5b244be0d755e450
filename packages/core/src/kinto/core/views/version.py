"""``GET /v1/__version__``: from the version file if there is one, else from the settings."""

from __future__ import annotations

import json
import os
from typing import Any

from pyramid.security import NO_PERMISSION_REQUIRED

from kinto.core.service import Service

version = Service(name="version", path="/__version__", description="Version")


def _from_file(path: str) -> dict[str, Any] | None:
    if not path or not os.path.isfile(path):
        return None
    try:
        with open(path, encoding="utf-8") as file:
            data = json.load(file)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


@version.get(permission=NO_PERMISSION_REQUIRED)
def get_version(request: Any) -> dict[str, Any]:
    settings = request.registry.settings
    found = _from_file(settings["version_json_path"] or "")
    if found is not None:
        return found
    return {
        "name": settings["project_name"],
        "version": settings["project_version"],
        "source": settings["project_docs"],
        "commit": "unknown",
        "build": "unknown",
    }
