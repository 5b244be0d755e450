"""A metrics service that remembers what it was told, for tests of the core and of plugins.

    from kinto.core.testing.metrics import RecordingMetricsService

    service = RecordingMetricsService()
    app = make_app(settings, [service.include])
    ...
    assert service.counted("cache_hits") == 1
    assert ("listeners.audit.seconds", ()) in service.timed

``include`` registers the service the way a metrics plugin does
(``registry.registerUtility(service, IMetricsService)``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from zope.interface import implementer

from kinto.core.metrics import IMetricsService, Labels

__all__ = ["RecordingMetricsService"]


class _RecordingTimer:
    def __init__(self, record: Callable[[], None]) -> None:
        self._record = record

    def __enter__(self) -> _RecordingTimer:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self._record()

    def __call__(self, function: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            with self:
                return function(*args, **kwargs)

        return timed


@implementer(IMetricsService)
class RecordingMetricsService:
    """Records every call: ``counts`` ``(key, count, unique)``, ``timed`` ``(key, labels)``
    (each timed block or call, or each ``timer(key, value=...)``), ``observed`` ``(key, value, labels)``."""

    def __init__(self) -> None:
        self.counts: list[tuple[str, int, tuple[tuple[str, str], ...] | None]] = []
        self.timed: list[tuple[str, tuple[tuple[str, str], ...]]] = []
        self.observed: list[tuple[str, float, tuple[tuple[str, str], ...]]] = []

    def include(self, config: Any) -> None:
        """A Pyramid include registering this service as the application's metrics service."""
        config.registry.registerUtility(self, IMetricsService)

    def timer(self, key: str, value: float | None = None, labels: Labels = ()) -> _RecordingTimer:
        entry = (key, tuple(labels))
        timer = _RecordingTimer(lambda: self.timed.append(entry))
        if value is not None:
            self.timed.append(entry)
        return timer

    def count(self, key: str, count: int = 1, unique: Labels | None = None) -> None:
        self.counts.append((key, count, None if unique is None else tuple(unique)))

    def observe(self, key: str, value: float, labels: Labels = ()) -> None:
        self.observed.append((key, value, tuple(labels)))

    def counted(self, key: str) -> int:
        """The total counted under ``key``."""
        return sum(count for counted_key, count, _ in self.counts if counted_key == key)
