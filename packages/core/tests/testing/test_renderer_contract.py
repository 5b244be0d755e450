import pytest

from kinto.core.logs import ClassicLogRenderer, JsonLogRenderer, build_renderer
from kinto.core.testing.renderer import RendererContract


class TestClassicLogRenderer(RendererContract):
    @pytest.fixture
    def renderer_factory(self):
        return lambda settings: build_renderer(ClassicLogRenderer, settings)


class TestJsonLogRenderer(RendererContract):
    @pytest.fixture
    def renderer_factory(self):
        return lambda settings: build_renderer(JsonLogRenderer, settings)
