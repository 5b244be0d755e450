"""Fixtures: a forward-protocol receiver, and renderers pointed at it.

With ``FLUENTD_HOST`` set, the ``fluentd`` fixture is a real Fluentd relaying
``kinto.**`` to the receiver (see ``tests/fluentd.conf``): records then make the
real round trip. Tests that stop or pause the receiver to play an outage always
use the stand-in, since they cannot stop a real Fluentd.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from kinto_fluent import FluentRenderer
from kinto_fluent.testing import ForwardReceiver

#: Where a real Fluentd forwards what it receives (its ``<match kinto.**>`` section), when FLUENTD_HOST is set.
RELAY_PORT = int(os.environ.get("FLUENTD_RELAY_PORT", "24225"))


@dataclass
class Fluentd:
    """Where renderers send (``host``/``port``) and where the records can be read back (``receiver``)."""

    host: str
    port: int
    receiver: ForwardReceiver
    real: bool

    def settings(self, **extra: Any) -> dict[str, Any]:
        return {"kinto_fluent.host": self.host, "kinto_fluent.port": self.port, **extra}


@pytest.fixture(autouse=True)
def no_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests state their settings: only FLUENTD_HOST (read by the fixtures) may come from outside."""
    for name in list(os.environ):
        if name.startswith("KINTO_FLUENT_") or name.startswith("KINTO_KINTO_FLUENT_"):
            monkeypatch.delenv(name)


@pytest.fixture
def receiver() -> Iterator[ForwardReceiver]:
    """The stand-in Fluentd, on a random port of 127.0.0.1."""
    with ForwardReceiver() as stand_in:
        yield stand_in
    assert stand_in.errors == [], "the receiver failed to decode what it was sent"


@pytest.fixture
def fluentd() -> Iterator[Fluentd]:
    """The Fluentd of the round-trip tests: the real one when FLUENTD_HOST is set, else the stand-in."""
    real_host = os.environ.get("FLUENTD_HOST")
    if real_host:
        with ForwardReceiver(port=RELAY_PORT) as relayed:
            yield Fluentd(real_host, int(os.environ.get("FLUENTD_PORT", "24224")), relayed, real=True)
        return
    with ForwardReceiver() as stand_in:
        yield Fluentd("127.0.0.1", stand_in.port, stand_in, real=False)
    assert stand_in.errors == [], "the receiver failed to decode what it was sent"


@pytest.fixture
def make_renderer() -> Iterator[Callable[..., FluentRenderer]]:
    """Build renderers from settings; each is closed at the end of the test."""
    built: list[FluentRenderer] = []

    def make(settings: dict[str, Any]) -> FluentRenderer:
        renderer = FluentRenderer({"kinto_fluent.retry_interval_seconds": 0.05, **settings})
        built.append(renderer)
        return renderer

    yield make
    for renderer in built:
        renderer.close(timeout=1)


# Loaded machines (CI shares two cores) make data generation slow: speed is not what these tests check.
from hypothesis import HealthCheck as _HealthCheck  # noqa: E402
from hypothesis import settings as _hypothesis_settings  # noqa: E402

_hypothesis_settings.register_profile("kinto", deadline=None, suppress_health_check=[_HealthCheck.too_slow])
_hypothesis_settings.load_profile("kinto")
