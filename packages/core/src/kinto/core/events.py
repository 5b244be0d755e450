"""The event bus: what resources announce, and how listeners subscribe.

Reads and writes are gathered per request (one event per action, resource and
parent, merged across a batch) and announced twice:

* ``ResourceRead`` / ``ResourceChanged`` at the end of the request, inside its
  transaction: a subscriber that raises fails the request and rolls it back;
* ``AfterResourceRead`` / ``AfterResourceChanged`` once the transaction has
  committed (never for a rolled-back request): a subscriber that raises is
  logged and does not change the response.

The four are distinct classes (none subclasses another), so a subscriber of
one is called once per event. ``ServerFlushed`` is announced by whoever empties
every backend. Payloads carry ``action``, ``uri`` (without the ``/v1``
prefix), ``resource_name``, ``timestamp``, ``user_id`` and the parent ids.

Subscribe with ``config.add_subscriber(fn, AfterResourceChanged,
for_actions=(ACTIONS.CREATE,), for_resources=("record",))`` or from settings::

    kinto.event_listeners = audit
    kinto.event_listeners.audit.use = myproject.listeners
    kinto.event_listeners.audit.actions = create delete
    kinto.event_listeners.audit.resources = record

where ``myproject.listeners.load_from_config(config, prefix)`` returns a
:class:`kinto.core.listeners.ListenerBase` (any callable taking the event);
``kinto.event_listeners = myproject.listeners`` (a module name, its options
under ``event_listeners.listeners.``) works too. As in Kinto, such a listener
hears ``ResourceChanged`` for the write actions (all three by default) and
``ResourceRead`` when ``read`` is among its actions, inside the transaction;
``event_listeners.audit.events = AfterResourceChanged`` (our extension) makes it
hear what was committed instead. Each call is timed as
``listeners.<name>.seconds`` by the metrics service (:mod:`kinto.core.metrics`).
"""

from __future__ import annotations

import enum
import logging
import re
import warnings
from collections.abc import Callable, Iterable
from typing import Any

from pyramid.exceptions import ConfigurationError
from zope.interface import implementedBy

from kinto.core.metrics import listener_with_timer
from kinto.core.settings import apply_defaults

__all__ = [
    "ACTIONS",
    "AfterResourceChanged",
    "AfterResourceRead",
    "ResourceChanged",
    "ResourceRead",
    "ServerFlushed",
    "emit_after_commit",
    "emit_changes",
    "notify_resource_event",
    "notify_resource_read",
    "reads_are_heard",
    "savepoint",
    "setup_listeners",
]

logger = logging.getLogger(__name__)

EVENTS_KEY = "resource_events"


class ACTIONS(enum.Enum):
    CREATE = "create"
    DELETE = "delete"
    READ = "read"
    UPDATE = "update"

    @staticmethod
    def from_string_list(elements: Iterable[str | ACTIONS]) -> tuple[ACTIONS, ...]:
        return tuple(element if isinstance(element, ACTIONS) else ACTIONS(element) for element in elements)


class _ResourceEvent:
    def __init__(self, payload: dict[str, Any], request: Any) -> None:
        self.payload = payload
        self.request = request

    def __repr__(self) -> str:
        return f"<{type(self).__name__} action={self.payload.get('action')} uri={self.payload.get('uri')}>"


# The four event classes share these private bases only: Pyramid dispatches on the
# class hierarchy, so a public base would deliver one write to its subscribers twice.
class _ReadEvent(_ResourceEvent):
    def __init__(self, payload: dict[str, Any], read_objects: list[dict[str, Any]], request: Any) -> None:
        super().__init__(payload, request)
        self.read_objects = read_objects

    @property
    def read_records(self) -> list[dict[str, Any]]:
        """Kinto's former name of ``read_objects``; warns."""
        warnings.warn("read_records is deprecated: use read_objects", DeprecationWarning, stacklevel=2)
        return self.read_objects


class _ChangeEvent(_ResourceEvent):
    def __init__(self, payload: dict[str, Any], impacted_objects: list[dict[str, Any]], request: Any) -> None:
        super().__init__(payload, request)
        self.impacted_objects = impacted_objects

    @property
    def impacted_records(self) -> list[dict[str, Any]]:
        """Kinto's former name of ``impacted_objects``; warns."""
        warnings.warn("impacted_records is deprecated: use impacted_objects", DeprecationWarning, stacklevel=2)
        return self.impacted_objects


class ResourceRead(_ReadEvent):
    """Objects were read, announced inside the request's transaction; ``read_objects`` lists them."""


class AfterResourceRead(_ReadEvent):
    """The same reads, announced once the request's transaction committed."""


class ResourceChanged(_ChangeEvent):
    """Objects changed, announced inside the request's transaction.

    ``impacted_objects`` is a list of ``{"old": ..., "new": ...}`` (``old``
    missing on create).
    """


class AfterResourceChanged(_ChangeEvent):
    """The same changes, announced once the request's transaction committed."""


class ServerFlushed:
    """Every backend of the server was emptied (announced by whoever flushed them)."""

    def __init__(self, request: Any) -> None:
        self.request = request


_BEFORE_COMMIT = {True: ResourceRead, False: ResourceChanged}
_AFTER_COMMIT = {True: AfterResourceRead, False: AfterResourceChanged}


def _bound_data(request: Any) -> dict[str, Any]:
    bound = getattr(request, "bound_data", None)
    if bound is None:
        bound = {}
        try:
            request.bound_data = bound
        except AttributeError:
            pass
    return bound


def notify_resource_event(
    request: Any,
    parent_id: str,
    timestamp: int,
    data: dict[str, Any] | list[dict[str, Any]],
    action: ACTIONS,
    old: dict[str, Any] | list[dict[str, Any]] | None = None,
    resource_name: str | None = None,
    resource_data: dict[str, Any] | None = None,
) -> None:
    """Record a change, to be announced at the end of the request.

    Changes of the same action, resource and parent within one request (or
    one batch) are merged into one event. ``resource_data`` (the parent ids,
    ``uri``) goes into the payload; without it the route's matchdict does, its
    ``id`` renamed ``<resource_name>_id`` as Kinto does.
    """
    if action is ACTIONS.READ:
        notify_resource_read(
            request,
            data if isinstance(data, list) else [data],
            resource_name or "",
            resource_data,
            parent_id=parent_id,
            timestamp=timestamp,
        )
        return
    new_objects = data if isinstance(data, list) else [data]
    old_objects = old if isinstance(old, list) else ([old] if old is not None else [])
    impacted = []
    for index, new in enumerate(new_objects):
        entry: dict[str, Any] = {"new": new}
        if index < len(old_objects) and old_objects[index] is not None:
            entry["old"] = old_objects[index]
        impacted.append(entry)
    _gather(request, action, resource_name, parent_id, timestamp, resource_data, impacted)


def notify_resource_read(
    request: Any,
    read_objects: list[dict[str, Any]],
    resource_name: str = "",
    resource_data: dict[str, Any] | None = None,
    parent_id: str = "",
    timestamp: int | None = None,
) -> None:
    """Record a read, announced as ``ResourceRead`` then ``AfterResourceRead`` like changes are."""
    _gather(request, ACTIONS.READ, resource_name, parent_id, timestamp, resource_data, list(read_objects))


def reads_are_heard(registry: Any) -> bool:
    """Whether anything subscribed to reads; when nothing did, a read gathers and announces nothing."""
    return has_subscribers(registry, ResourceRead) or has_subscribers(registry, AfterResourceRead)


def _gather(
    request: Any,
    action: ACTIONS,
    resource_name: str | None,
    parent_id: str,
    timestamp: int | None,
    resource_data: dict[str, Any] | None,
    objects: list[dict[str, Any]],
) -> None:
    resource_name = resource_name or getattr(request, "current_resource_name", "") or ""
    events: dict[tuple[str, str, str], tuple[dict[str, Any], list[dict[str, Any]]]]
    events = _bound_data(request).setdefault(EVENTS_KEY, {})
    key = (action.value, resource_name, parent_id)
    if key in events:
        payload, gathered = events[key]
        if timestamp is not None:
            payload["timestamp"] = max(payload["timestamp"] or 0, timestamp)
        gathered.extend(objects)
        return
    payload = _payload(request, action, resource_name, timestamp, resource_data)
    events[key] = (payload, objects)


def has_subscribers(registry: Any, event_class: type) -> bool:
    """Whether anything subscribed to ``event_class`` (or to what it implements) on ``registry``.

    Pyramid's ``registry.has_listeners`` is true as soon as any subscriber exists; this asks the
    adapter registry (a cached lookup) for this event's subscribers, so a read announces nothing,
    and builds no payload, when nobody listens to reads.
    """
    adapters = getattr(registry, "adapters", None)
    if adapters is None:
        return bool(getattr(registry, "has_listeners", False))
    return bool(adapters.subscriptions((implementedBy(event_class),), None))


def _payload(
    request: Any, action: ACTIONS, resource_name: str, timestamp: int | None, resource_data: dict[str, Any] | None
) -> dict[str, Any]:
    payload = {
        "timestamp": timestamp,
        "action": action.value,
        "uri": _without_version_prefix(getattr(request, "path", "")),
        "user_id": getattr(request, "prefixed_userid", None),
        "resource_name": resource_name,
    }
    if resource_data is None:
        resource_data = dict(getattr(request, "matchdict", None) or {})
        if "id" in resource_data:
            resource_data[f"{resource_name}_id"] = resource_data.pop("id")
    payload.update(resource_data)
    return payload


_VERSION_PREFIX = re.compile(r"^/v[0-9]+(?=/|$)")


def _without_version_prefix(path: str) -> str:
    # Kinto's payloads name the URI as the API sees it, without the /v1 the routes live under.
    return _VERSION_PREFIX.sub("", path, count=1)


def pending_events(request: Any) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    return list(_bound_data(request).get(EVENTS_KEY, {}).values())


def savepoint(request: Any) -> Callable[[], None]:
    """Remember the events gathered so far; the function returned forgets those gathered since.

    A batch sub-request rolled back to its storage savepoint calls it: nothing is
    announced, before or after the commit, for what it undid (nor for what it
    read). Events merged into one gathered earlier lose the objects added since.
    """
    saved = {
        key: (dict(payload), len(objects))
        for key, (payload, objects) in _bound_data(request).get(EVENTS_KEY, {}).items()
    }

    def forget_since() -> None:
        gathered = _bound_data(request).get(EVENTS_KEY, {})
        for key in list(gathered):
            if key not in saved:
                del gathered[key]
                continue
            payload, objects = gathered[key]
            previous_payload, count = saved[key]
            payload.clear()
            payload.update(previous_payload)
            del objects[count:]

    return forget_since


_MAX_CASCADE_ROUNDS = 16


def _event(classes: dict[bool, type], payload: dict[str, Any], objects: list[dict[str, Any]], request: Any) -> Any:
    return classes[payload["action"] == ACTIONS.READ.value](payload, objects, request)


def emit_changes(request: Any) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """Announce ``ResourceRead`` and ``ResourceChanged`` for what the request gathered, in the
    order it was gathered (inside the transaction: exceptions propagate and roll the request back).

    Returns what was announced, for :func:`emit_after_commit`.
    """
    gathered: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []
    events = _bound_data(request).setdefault(EVENTS_KEY, {})
    # Subscribers may change more objects (cascades): their events are announced in turn.
    for _ in range(_MAX_CASCADE_ROUNDS):
        if not events:
            break
        batch = list(events.values())
        events.clear()
        for payload, objects in batch:
            request.registry.notify(_event(_BEFORE_COMMIT, payload, objects, request))
        gathered.extend(batch)
    else:
        if events:
            raise RuntimeError(f"ResourceChanged subscribers kept changing objects after {_MAX_CASCADE_ROUNDS} rounds")
    return gathered


def emit_after_commit(request: Any, gathered: list[tuple[dict[str, Any], list[dict[str, Any]]]]) -> None:
    """Announce ``AfterResourceRead`` and ``AfterResourceChanged`` once committed; a failing
    subscriber is logged only."""
    for payload, objects in gathered:
        try:
            request.registry.notify(_event(_AFTER_COMMIT, payload, objects, request))
        except Exception:
            logger.exception("An after-commit subscriber failed (the transaction was committed)")
    _bound_data(request).pop(EVENTS_KEY, None)


def discard_events(request: Any) -> None:
    _bound_data(request).pop(EVENTS_KEY, None)


class ActionsPredicate:
    """Subscriber predicate ``for_actions=(ACTIONS.CREATE, ...)``.

    An event whose payload names no action (not a resource event) passes, as in Kinto.
    """

    def __init__(self, actions: Iterable[Any], config: Any) -> None:
        self.actions = {action.value for action in ACTIONS.from_string_list(actions)}

    def text(self) -> str:
        return f"for_actions = {sorted(self.actions)}"

    phash = text

    def __call__(self, event: Any) -> bool:
        action = (getattr(event, "payload", None) or {}).get("action")
        return not action or action in self.actions


class ResourcesPredicate:
    """Subscriber predicate ``for_resources=("record", ...)``.

    An empty list, or an event whose payload names no resource, passes, as in Kinto.
    """

    def __init__(self, resources: Iterable[str], config: Any) -> None:
        self.resources = set(resources)

    def text(self) -> str:
        return f"for_resources = {sorted(self.resources)}"

    phash = text

    def __call__(self, event: Any) -> bool:
        resource_name = (getattr(event, "payload", None) or {}).get("resource_name")
        return not resource_name or not self.resources or resource_name in self.resources


_WRITE_ACTIONS = (ACTIONS.CREATE, ACTIONS.UPDATE, ACTIONS.DELETE)
#: A listener's options (``event_listeners.<name>.<option>``) and their defaults.
_LISTENER_OPTIONS: dict[str, Any] = {"use": None, "actions": [], "resources": [], "events": []}
_LISTENER_EVENTS = {
    cls.__name__: cls for cls in (ResourceRead, ResourceChanged, AfterResourceRead, AfterResourceChanged)
}


def setup_listeners(config: Any) -> None:
    """Subscribe the listeners named in ``event_listeners`` (see the module docstring)."""
    settings = config.get_settings()
    for name in settings["event_listeners"]:
        listener, prefix = _load_listener(config, settings, name)
        listener = listener_with_timer(config, f"listeners.{name}", listener)
        actions = _listener_actions(settings, prefix)
        resources = tuple(_listener_option(settings, prefix, "resources"))
        for event_class in _listener_event_classes(settings, prefix):
            heard = tuple(
                action for action in actions if (action is ACTIONS.READ) == issubclass(event_class, _ReadEvent)
            )
            if heard:
                config.add_subscriber(listener, event_class, for_actions=heard, for_resources=resources)


def _load_listener(config: Any, settings: Any, name: str) -> tuple[Callable[[Any], None], str]:
    """The listener called ``name`` and the settings prefix of its options.

    ``event_listeners.<name>.use`` names its module; without it, ``name`` itself
    is the module's dotted name, and the options are read under its last part
    (``event_listeners = myproject.audit`` reads ``event_listeners.audit.*``).
    """
    prefix = f"event_listeners.{name}."
    use = _listener_option(settings, prefix, "use")
    if not use:
        prefix = f"event_listeners.{name.rsplit('.', 1)[-1]}."
        try:
            module = config.maybe_dotted(name)
        except (ImportError, AttributeError, ValueError):
            raise ConfigurationError(
                f"Setting 'kinto.event_listeners.{name}.use' is missing for event listener {name!r}"
                f" (and {name!r} is not a module that can be imported)"
            ) from None
        return _build_listener(config, module, prefix, name), prefix
    try:
        module = config.maybe_dotted(use)
    except (ImportError, AttributeError, ValueError) as error:
        raise ConfigurationError(f"Setting 'kinto.{prefix}use = {use}': cannot import it ({error})") from error
    return _build_listener(config, module, prefix, f"{prefix}use = {use}"), prefix


def _listener_actions(settings: Any, prefix: str) -> tuple[ACTIONS, ...]:
    names = _listener_option(settings, prefix, "actions")
    if not names:
        return _WRITE_ACTIONS
    try:
        return ACTIONS.from_string_list(names)
    except ValueError as error:
        raise ConfigurationError(f"Setting 'kinto.{prefix}actions': {error}") from error


def _listener_event_classes(settings: Any, prefix: str) -> list[type]:
    """Kinto's listeners hear ``ResourceRead`` and ``ResourceChanged``; ``<prefix>events``
    (our extension) may name others, such as ``AfterResourceChanged`` for after the commit."""
    names = _listener_option(settings, prefix, "events") or ["ResourceRead", "ResourceChanged"]
    unknown = [name for name in names if name not in _LISTENER_EVENTS]
    if unknown:
        raise ConfigurationError(
            f"Setting 'kinto.{prefix}events': unknown event {unknown[0]!r}"
            f" (expected some of {', '.join(_LISTENER_EVENTS)})"
        )
    return [_LISTENER_EVENTS[name] for name in names]


def _listener_option(settings: Any, prefix: str, option: str) -> Any:
    """A listener's option, by the settings rule (both spellings, the environment winning).

    The options are only known once ``event_listeners`` is read, hence this late ``apply_defaults``;
    as in Kinto, the environment may give an option the file does not.
    """
    key = prefix + option
    apply_defaults(settings, {key: _LISTENER_OPTIONS[option]})
    return settings[key]


def _build_listener(config: Any, module: Any, prefix: str, origin: str) -> Callable[[Any], None]:
    loader = getattr(module, "load_from_config", None)
    if loader is not None:
        listener = loader(config, prefix)
    elif callable(module):
        listener = module
    else:
        raise ConfigurationError(f"Setting 'kinto.{origin}': no load_from_config(config, prefix) found")
    if not callable(listener):
        raise ConfigurationError(
            f"Setting 'kinto.{origin}': load_from_config(config, prefix) returned {type(listener).__qualname__},"
            " which is not callable (a kinto.core.listeners.ListenerBase is)"
        )
    return listener
