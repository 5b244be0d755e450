"""The reference tables generate.py builds from the code at build time."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import generate


@pytest.mark.parametrize("module_name", [table[2] for table in generate.SETTINGS_TABLES])
def test_every_setting_of_every_table_is_described(module_name):
    module = importlib.import_module(module_name)
    assert set(module.SETTING_DESCRIPTIONS) == set(module.DEFAULT_SETTINGS)
    assert all(description.strip() for description in module.SETTING_DESCRIPTIONS.values())


def test_the_settings_table_has_a_row_per_setting_with_its_description():
    table = generate.settings_reference()
    core = importlib.import_module("kinto.core.settings")
    for key, description in core.SETTING_DESCRIPTIONS.items():
        name = key if "." in key else f"kinto.{key}"
        assert f"| `{name}` |" in table
        assert description.replace("|", "\\|") in table


def test_the_http_api_page_lists_what_the_server_serves():
    page = generate.http_api_reference()
    for path in (
        "/v1/buckets",
        "/v1/buckets/{bucket_id}/collections/{collection_id}/records",
        "/v1/accounts",
        "/v1/batch",
        "/v1/permissions",
        "/v1/__heartbeat__",
    ):
        assert f"### `{path}`" in page
    assert "| `_limit` | query |" in page
