"""The core's renderer contract, run on FluentRenderer pointed at the stand-in Fluentd."""

from collections.abc import Callable
from typing import Any

import pytest
from kinto.core.testing.renderer import RendererContract

from kinto_fluent import FluentRenderer
from kinto_fluent.testing import ForwardReceiver


class TestFluentRendererContract(RendererContract):
    @pytest.fixture
    def renderer_factory(
        self, receiver: ForwardReceiver, make_renderer: Callable[..., FluentRenderer]
    ) -> Callable[[dict[str, Any]], FluentRenderer]:
        def build(settings: dict[str, Any]) -> FluentRenderer:
            return make_renderer({**settings, "kinto_fluent.host": "127.0.0.1", "kinto_fluent.port": receiver.port})

        return build

    def test_every_contract_event_reaches_fluentd_as_a_record(self, renderer, receiver):
        for event in ({"event": "odd", "value": "\ud800 lone surrogate"}, {"event": "odd", "value": object()}):
            self.render(renderer, event)

        events = receiver.wait_for(2)
        assert [event.record["event"] for event in events] == ["odd", "odd"]
        assert renderer.dropped == 0
