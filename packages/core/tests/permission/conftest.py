import pytest

# The contract classes live in the package, not in test files: ask pytest to rewrite their asserts too.
pytest.register_assert_rewrite("kinto.core.testing.cache", "kinto.core.testing.permission")
