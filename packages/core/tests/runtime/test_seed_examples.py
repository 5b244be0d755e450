"""Seed examples #2-#4 of the documentation, copied into a throwaway plugin package and app.

(#1, a renderer swapped by configuration, is exercised in test_logs.py for the core's
renderers and in the kinto-fluent package for ``kinto_fluent.FluentRenderer``.)
"""

import sys
import textwrap

import pytest
import webtest

PLUGIN = """
import kinto.core
from pyramid.settings import asbool
from cornice import Service

DEFAULT_SETTINGS = {'myplugin.refresh_enabled': False}

status = Service(name="myplugin-status", path='/myplugin/status', description="Plugin status")


@status.get()
def get_status(request):
    settings = request.registry.settings
    return {"refresh_enabled": asbool(settings['myplugin.refresh_enabled'])}


def includeme(config):
    kinto.core.load_default_settings(config, DEFAULT_SETTINGS)
    settings = config.get_settings()
    if asbool(settings['myplugin.refresh_enabled']):
        config.add_api_capability("flush",
                                  description="Flush server using endpoint",
                                  url="https://example.org/docs/flush")
    config.scan('myplugin')
"""

APP = """
import kinto.core
from pyramid.config import Configurator

def main(global_config, **settings):
    config = Configurator(settings=settings)
    kinto.core.initialize(config, '0.0.1')
    config.scan("myproject.views")
    config.include('myplugin')
    return config.make_wsgi_app()
"""

VIEWS = """
from kinto.core import Service

hello = Service(name="myproject-hello", path="/myproject/hello")


@hello.get()
def get_hello(request):
    return {"hello": "world"}
"""


@pytest.fixture
def packages(tmp_path, monkeypatch):
    (tmp_path / "myplugin").mkdir()
    (tmp_path / "myplugin" / "__init__.py").write_text(textwrap.dedent(PLUGIN))
    (tmp_path / "myproject").mkdir()
    (tmp_path / "myproject" / "__init__.py").write_text(textwrap.dedent(APP))
    (tmp_path / "myproject" / "views.py").write_text(textwrap.dedent(VIEWS))
    monkeypatch.syspath_prepend(str(tmp_path))
    # The deployment's secret, as an ini or the environment gives it: no application starts without one.
    monkeypatch.setenv("KINTO_USERID_HMAC_SECRET", "seed-examples-secret")
    yield tmp_path
    for name in list(sys.modules):
        if name.split(".")[0] in ("myplugin", "myproject"):
            del sys.modules[name]


def test_plugin_included_in_code_with_its_default(packages):
    import myproject

    app = webtest.TestApp(myproject.main({}))
    assert app.get("/v1/myproject/hello").json == {"hello": "world"}
    assert app.get("/v1/myplugin/status").json == {"refresh_enabled": False}
    assert app.get("/v1/").json["capabilities"] == {}


def test_plugin_setting_from_the_ini(packages):
    import myproject

    app = webtest.TestApp(myproject.main({}, **{"myplugin.refresh_enabled": "true"}))
    assert app.get("/v1/myplugin/status").json == {"refresh_enabled": True}


def test_environment_variable_wins_over_the_ini_and_shows_the_capability(packages, monkeypatch):
    import myproject

    monkeypatch.setenv("KINTO_MYPLUGIN_REFRESH_ENABLED", "true")
    app = webtest.TestApp(myproject.main({}, **{"myplugin.refresh_enabled": "false"}))
    assert app.get("/v1/myplugin/status").json == {"refresh_enabled": True}
    assert app.get("/v1/").json["capabilities"] == {
        "flush": {"description": "Flush server using endpoint", "url": "https://example.org/docs/flush"}
    }


def test_plugin_included_from_the_kinto_includes_setting(packages):
    from pyramid.config import Configurator

    import kinto.core

    config = Configurator(settings={"kinto.includes": "myplugin", "myplugin.refresh_enabled": "on"})
    kinto.core.initialize(config, "0.0.1")
    app = webtest.TestApp(config.make_wsgi_app())
    assert app.get("/v1/myplugin/status").json == {"refresh_enabled": True}
    assert "flush" in app.get("/v1/").json["capabilities"]


def test_unknown_include_fails_start_up(packages):
    from pyramid.config import Configurator

    import kinto.core

    config = Configurator(settings={"kinto.includes": "no_such_plugin"})
    with pytest.raises(ImportError, match="no_such_plugin"):
        kinto.core.initialize(config, "0.0.1")
