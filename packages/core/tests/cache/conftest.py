import pytest

# The contract classes live in the package, not in test files: ask pytest to rewrite their asserts too.
pytest.register_assert_rewrite("kinto.core.testing.cache", "kinto.core.testing.permission")


def pytest_collection_modifyitems(config, items):
    """``KINTO_CONTRACT_BACKENDS`` selects the backends, as for the storage suite."""
    from kinto.core.testing.storage import backend_selected

    for item in items:
        for backend in ("memory", "sqlite", "postgresql"):
            if item.path.name.endswith(f"_{backend}.py") and not backend_selected(backend):
                item.add_marker(pytest.mark.skip(reason=f"KINTO_CONTRACT_BACKENDS excludes {backend}"))
