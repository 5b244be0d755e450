"""myproject: a REST microservice in a few lines of kinto.core (seed example #2)."""

import kinto.core
from pyramid.config import Configurator


def main(global_config, **settings):
    config = Configurator(settings=settings)
    kinto.core.initialize(config, '0.0.1')
    config.scan("myproject.views")
    config.include('kinto_elasticsearch')
    return config.make_wsgi_app()
