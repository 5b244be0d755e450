"""kinto_fluent: a Kinto-Core log renderer that ships every structured log event to Fluentd.

``kinto.logging_renderer = kinto_fluent.FluentRenderer`` in the settings is all
it takes; options are described in ``kinto_fluent.settings``.
"""

from kinto_fluent.renderer import FluentRenderer
from kinto_fluent.settings import DEFAULT_SETTINGS

__all__ = ["DEFAULT_SETTINGS", "FluentRenderer"]
