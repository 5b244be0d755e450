"""Request latency of a Kinto-Core app with the Fluent renderer, Fluentd up, down or stalled.

    python bench/latency.py [--requests 5000] [--path /v1/]

Each scenario builds a fresh app, warms it up, then times ``--requests`` GETs
called straight on the WSGI app (no HTTP server, so the renderer's cost is not
hidden by the server's). The local log is written to a null stream: the classic
line is still rendered, as in production. Prints p50, p99 and the mean in
microseconds, and how many events the renderer dropped.
"""

from __future__ import annotations

import argparse
import io
import logging
import multiprocessing
import statistics
import sys
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from kinto.core.testing import make_wsgi_app

from kinto_fluent.testing import ForwardReceiver


def call(app: Any, path: str) -> None:
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_USER_AGENT": "bench",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": sys.stderr,
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    status: list[str] = []
    body = app(environ, lambda code, headers, exc_info=None: status.append(code))
    b"".join(body)
    if not status[0].startswith("200"):
        raise RuntimeError(f"GET {path} answered {status[0]}")


def measure(app: Any, path: str, requests: int) -> list[float]:
    for _ in range(min(500, requests)):
        call(app, path)
    durations = []
    for _ in range(requests):
        start = time.perf_counter_ns()
        call(app, path)
        durations.append((time.perf_counter_ns() - start) / 1000)
    return durations


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


class ReceiverProcess:
    """A ForwardReceiver in a process of its own, so that decoding does not compete for this process's GIL."""

    def __init__(self) -> None:
        self._control, child = multiprocessing.Pipe()
        self._process = multiprocessing.get_context("spawn").Process(target=_serve, args=(child,), daemon=True)
        self._process.start()
        self.port: int = self._command("port")

    def _command(self, name: str) -> Any:
        self._control.send(name)
        return self._control.recv()

    def start(self) -> None:
        self._command("start")

    def stop(self) -> None:
        self._command("stop")

    def pause(self) -> None:
        self._command("pause")

    def resume(self) -> None:
        self._command("resume")

    def received(self) -> int:
        return self._command("received")

    def close(self) -> None:
        self._command("exit")
        self._process.join(10)


def _serve(control: Connection) -> None:
    receiver = ForwardReceiver()
    receiver.start()
    actions: dict[str, Callable[[], Any]] = {
        "port": lambda: receiver.port,
        "start": receiver.start,
        "stop": receiver.stop,
        "pause": receiver.pause,
        "resume": receiver.resume,
        "received": lambda: len(receiver.events),
        "exit": receiver.stop,
    }
    while True:
        name = control.recv()
        control.send(actions[name]())
        if name == "exit":
            return


def scenarios(receiver: ReceiverProcess) -> dict[str, tuple[dict[str, Any], Callable[[], None]]]:
    fluent = {
        "kinto.logging_renderer": "kinto_fluent.FluentRenderer",
        "kinto_fluent.host": "127.0.0.1",
        "kinto_fluent.port": receiver.port,
    }
    return {
        "classic renderer (no Fluentd)": ({}, lambda: None),
        "fluent, receiver up": (fluent, receiver.start),
        "fluent, receiver down": (fluent, receiver.stop),
        "fluent, receiver stalled": (fluent, lambda: (receiver.start(), receiver.pause())),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--path", default="/v1/")
    args = parser.parse_args(argv)

    local_log = logging.getLogger("kinto")
    local_log.setLevel(logging.INFO)
    local_log.addHandler(logging.StreamHandler(io.StringIO()))
    local_log.propagate = False
    logging.getLogger("kinto_fluent").addHandler(logging.StreamHandler(io.StringIO()))
    logging.getLogger("kinto_fluent").propagate = False

    receiver = ReceiverProcess()
    rows = []
    for name, (settings, prepare) in scenarios(receiver).items():
        receiver.resume()
        prepare()
        app = make_wsgi_app(settings)
        durations = measure(app, args.path, args.requests)
        renderer = app.registry.log_renderer.renderer
        dropped = getattr(renderer, "dropped", 0)
        if hasattr(renderer, "close"):
            renderer.close(timeout=0.5)
        rows.append(
            (name, percentile(durations, 0.5), percentile(durations, 0.99), statistics.fmean(durations), dropped)
        )
    receiver.resume()
    receiver.close()

    print(f"GET {args.path}, {args.requests} requests per scenario, microseconds per request")
    print(f"| {'scenario':<30} | {'p50':>7} | {'p99':>7} | {'mean':>7} | {'dropped':>7} |")
    print(f"|{'-' * 32}|{'-' * 9}|{'-' * 9}|{'-' * 9}|{'-' * 9}|")
    for name, p50, p99, mean, dropped in rows:
        print(f"| {name:<30} | {p50:>7.0f} | {p99:>7.0f} | {mean:>7.0f} | {dropped:>7} |")


if __name__ == "__main__":
    main()
