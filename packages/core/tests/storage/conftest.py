import pytest

# The contract class lives in the package, not in a test file: have pytest rewrite its asserts too.
pytest.register_assert_rewrite("kinto.core.testing.storage")


def pytest_configure(config):
    config.addinivalue_line("markers", "contract: the backend contract suites (nox -s contract)")
