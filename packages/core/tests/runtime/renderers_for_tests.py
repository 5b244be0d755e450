"""Renderers named by dotted path in the logging tests."""

from kinto.core.logs import Renderer


class UpperRenderer(Renderer):
    def __call__(self, logger, method_name, event_dict):
        prefix = self.settings.get("upper_prefix", "")
        return prefix + str(event_dict.get("event")).upper()


def function_renderer(logger, method_name, event_dict):
    return "fn:" + str(event_dict.get("event"))


class BrokenRenderer(Renderer):
    def __call__(self, logger, method_name, event_dict):
        raise ValueError("renderer bug")
