"""A listener module loaded from settings by the event tests."""

RECEIVED = {}


def load_from_config(config, prefix):
    name = prefix.split(".")[1]
    received = RECEIVED.setdefault(name, [])

    def listener(event):
        received.append((type(event).__name__, dict(event.payload), list(event.impacted_objects)))

    return listener
