"""A listener loaded from settings (``event_listeners.<name>.use``) that fails every write: an unhandled error."""

from kinto.core.listeners import ListenerBase


class FailingListener(ListenerBase):
    def __call__(self, event):
        raise RuntimeError("the failing listener refuses")


def load_from_config(config, prefix):
    return FailingListener()
