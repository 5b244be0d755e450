"""The event bus: what resources announce, and how listeners subscribe.

Writes are gathered per request (one event per action, resource and parent)
and announced twice: ``ResourceChanged`` inside the request's transaction (a
subscriber that raises rolls the request back), and ``AfterResourceChanged``
once the transaction has committed (never for a rolled-back request; a
subscriber that raises is logged and does not change the response).

Subscribe with ``config.add_subscriber(fn, ResourceChanged, for_actions=...,
for_resources=...)`` or from settings::

    kinto.event_listeners = audit
    kinto.event_listeners.audit.use = myproject.listeners
    kinto.event_listeners.audit.actions = create delete
    kinto.event_listeners.audit.resources = record

where ``myproject.listeners.load_from_config(config, prefix)`` returns a
callable taking the event.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable, Iterable
from typing import Any

from pyramid.exceptions import ConfigurationError
from zope.interface import implementedBy

from kinto.core.settings import as_list

__all__ = [
    "ACTIONS",
    "AfterResourceChanged",
    "ResourceChanged",
    "ResourceRead",
    "emit_after_commit",
    "emit_changes",
    "notify_resource_event",
    "notify_resource_read",
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


class ResourceRead(_ResourceEvent):
    """Objects were read; ``read_objects`` lists them."""

    def __init__(self, payload: dict[str, Any], read_objects: list[dict[str, Any]], request: Any) -> None:
        super().__init__(payload, request)
        self.read_objects = read_objects


class ResourceChanged(_ResourceEvent):
    """Objects changed, inside the request's transaction.

    ``impacted_objects`` is a list of ``{"old": ..., "new": ...}`` (``old``
    missing on create).
    """

    def __init__(self, payload: dict[str, Any], impacted_objects: list[dict[str, Any]], request: Any) -> None:
        super().__init__(payload, request)
        self.impacted_objects = impacted_objects


class AfterResourceChanged(ResourceChanged):
    """The same changes, announced after the transaction committed."""


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
    one batch) are merged into one event.
    """
    if action is ACTIONS.READ:
        raise ValueError("Use notify_resource_read() for reads")
    resource_name = resource_name or getattr(request, "current_resource_name", "") or ""
    new_objects = data if isinstance(data, list) else [data]
    old_objects = old if isinstance(old, list) else ([old] if old is not None else [])
    impacted = []
    for index, new in enumerate(new_objects):
        entry: dict[str, Any] = {"new": new}
        if index < len(old_objects) and old_objects[index] is not None:
            entry["old"] = old_objects[index]
        impacted.append(entry)

    events: dict[tuple[str, str, str], tuple[dict[str, Any], list[dict[str, Any]]]]
    events = _bound_data(request).setdefault(EVENTS_KEY, {})
    key = (action.value, resource_name or "", parent_id)
    if key in events:
        payload, objects = events[key]
        payload["timestamp"] = max(payload["timestamp"], timestamp)
        objects.extend(impacted)
        return
    payload = _payload(request, action, resource_name, timestamp, resource_data)
    events[key] = (payload, impacted)


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


def notify_resource_read(request: Any, read_objects: list[dict[str, Any]], resource_name: str = "",
                         resource_data: dict[str, Any] | None = None) -> None:
    """Announce a read immediately (reads are not transactional)."""
    payload = _payload(request, ACTIONS.READ, resource_name, None, resource_data)
    request.registry.notify(ResourceRead(payload, read_objects, request))


def _payload(request: Any, action: ACTIONS, resource_name: str, timestamp: int | None,
             resource_data: dict[str, Any] | None) -> dict[str, Any]:
    payload = {
        "action": action.value,
        "uri": getattr(request, "path", ""),
        "resource_name": resource_name,
        "user_id": getattr(request, "prefixed_userid", None),
        "timestamp": timestamp,
    }
    payload.update(resource_data or {})
    return payload


def pending_events(request: Any) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    return list(_bound_data(request).get(EVENTS_KEY, {}).values())


def savepoint(request: Any) -> Callable[[], None]:
    """Remember the changes gathered so far; the function returned forgets those gathered since.

    A batch sub-request rolled back to its storage savepoint calls it: nothing is
    announced, neither ``ResourceChanged`` nor ``AfterResourceChanged``, for what it
    undid. Events merged into one gathered earlier lose the objects added since.
    """
    saved = {key: (dict(payload), len(impacted))
             for key, (payload, impacted) in _bound_data(request).get(EVENTS_KEY, {}).items()}

    def forget_since() -> None:
        gathered = _bound_data(request).get(EVENTS_KEY, {})
        for key in list(gathered):
            if key not in saved:
                del gathered[key]
                continue
            payload, impacted = gathered[key]
            previous_payload, count = saved[key]
            payload.clear()
            payload.update(previous_payload)
            del impacted[count:]

    return forget_since


_MAX_CASCADE_ROUNDS = 16


def emit_changes(request: Any) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """Announce ``ResourceChanged`` for the request's gathered changes (inside
    the transaction: exceptions propagate and roll the request back)."""
    gathered: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []
    events = _bound_data(request).setdefault(EVENTS_KEY, {})
    # Subscribers may change more objects (cascades): their events are announced in turn.
    for _ in range(_MAX_CASCADE_ROUNDS):
        if not events:
            break
        batch = list(events.values())
        events.clear()
        for payload, impacted in batch:
            request.registry.notify(ResourceChanged(payload, impacted, request))
        gathered.extend(batch)
    else:
        if events:
            raise RuntimeError(f"ResourceChanged subscribers kept changing objects after {_MAX_CASCADE_ROUNDS} rounds")
    return gathered


def emit_after_commit(request: Any, gathered: list[tuple[dict[str, Any], list[dict[str, Any]]]]) -> None:
    """Announce ``AfterResourceChanged`` once committed; a failing subscriber is logged only."""
    for payload, impacted in gathered:
        try:
            request.registry.notify(AfterResourceChanged(payload, impacted, request))
        except Exception:
            logger.exception("An AfterResourceChanged subscriber failed (the change was committed)")
    _bound_data(request).pop(EVENTS_KEY, None)


def discard_events(request: Any) -> None:
    _bound_data(request).pop(EVENTS_KEY, None)


class ActionsPredicate:
    """Subscriber predicate ``for_actions=(ACTIONS.CREATE, ...)``."""

    def __init__(self, actions: Iterable[Any], config: Any) -> None:
        self.actions = {action.value for action in ACTIONS.from_string_list(actions)}

    def text(self) -> str:
        return f"for_actions = {sorted(self.actions)}"

    phash = text

    def __call__(self, event: Any) -> bool:
        payload = getattr(event, "payload", {})
        return payload.get("action") in self.actions


class ResourcesPredicate:
    """Subscriber predicate ``for_resources=("record", ...)``."""

    def __init__(self, resources: Iterable[str], config: Any) -> None:
        self.resources = set(resources)

    def text(self) -> str:
        return f"for_resources = {sorted(self.resources)}"

    phash = text

    def __call__(self, event: Any) -> bool:
        payload = getattr(event, "payload", {})
        return payload.get("resource_name") in self.resources


def setup_listeners(config: Any) -> None:
    """Subscribe the listeners named in ``event_listeners`` (see the module docstring)."""
    settings = config.get_settings()
    for name in as_list(settings.get("event_listeners")):
        prefix = f"event_listeners.{name}."
        use = settings.get(prefix + "use") or settings.get("kinto." + prefix + "use")
        if not use:
            raise ConfigurationError(f"Setting 'kinto.{prefix}use' is missing for event listener {name!r}")
        try:
            module = config.maybe_dotted(use)
        except ImportError as error:
            raise ConfigurationError(f"Setting 'kinto.{prefix}use = {use}': cannot import it ({error})") from error
        listener = _build_listener(config, module, prefix, use)
        actions = _listener_option(settings, prefix, "actions")
        resources = _listener_option(settings, prefix, "resources")
        predicates: dict[str, Any] = {}
        if actions:
            try:
                predicates["for_actions"] = ACTIONS.from_string_list(actions)
            except ValueError as error:
                raise ConfigurationError(f"Setting 'kinto.{prefix}actions': {error}") from error
        if resources:
            predicates["for_resources"] = tuple(resources)
        event_names = _listener_option(settings, prefix, "events") or ["AfterResourceChanged"]
        for event_name in event_names:
            event_class = {cls.__name__: cls for cls in (ResourceRead, ResourceChanged, AfterResourceChanged)}.get(
                event_name
            )
            if event_class is None:
                raise ConfigurationError(f"Setting 'kinto.{prefix}events': unknown event {event_name!r}")
            config.add_subscriber(listener, event_class, **predicates)


def _listener_option(settings: Any, prefix: str, option: str) -> list[str]:
    for key in (prefix + option, prefix + "for_" + option):
        value = settings.get(key) or settings.get("kinto." + key)
        if value:
            return as_list(value)
    return []


def _build_listener(config: Any, module: Any, prefix: str, use: str) -> Callable[[Any], None]:
    loader = getattr(module, "load_from_config", None)
    if loader is not None:
        return loader(config, prefix)
    if callable(module):
        return module
    raise ConfigurationError(f"Setting 'kinto.{prefix}use = {use}': no load_from_config(config, prefix) found")
