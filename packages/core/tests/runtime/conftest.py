import pytest

from kinto.core.testing import make_app


@pytest.fixture
def app_factory():
    def factory(settings=None, includes=()):
        return make_app(settings or {}, includes)

    return factory


@pytest.fixture
def app(app_factory):
    return app_factory()
