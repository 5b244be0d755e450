"""Kinto's built-in server plugins, each enabled by ``kinto.includes = kinto.plugins.<name>``."""
