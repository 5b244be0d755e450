"""The historical import path of the Fluent renderer: ``kinto.logging_renderer = cliquet_fluent.FluentRenderer``
keeps working. New configurations should name ``kinto_fluent.FluentRenderer``."""

from kinto_fluent import DEFAULT_SETTINGS, FluentRenderer

__all__ = ["DEFAULT_SETTINGS", "FluentRenderer"]
