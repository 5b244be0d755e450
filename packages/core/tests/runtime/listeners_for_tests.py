"""A listener module loaded from settings by the event tests, written as Kinto's listeners are."""

from kinto.core.listeners import ListenerBase

RECEIVED = {}


class Listener(ListenerBase):
    def __init__(self, received, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.received = received

    def __call__(self, event):
        objects = getattr(event, "impacted_objects", None)
        if objects is None:
            objects = event.read_objects
        self.received.append((type(event).__name__, dict(event.payload), list(objects)))


class FailingListener(ListenerBase):
    def __call__(self, event):
        raise RuntimeError("the listener refuses")


def load_from_config(config, prefix):
    settings = config.get_settings()
    if settings.get(prefix + "fail"):
        return FailingListener()
    name = prefix.split(".")[1]
    return Listener(RECEIVED.setdefault(name, []))
