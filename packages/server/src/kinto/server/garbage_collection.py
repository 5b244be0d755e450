"""The garbage collector's policy in a serving process: full collections that do not grow with the data.

A full (generation 2) collection of CPython's cyclic collector visits every container the
process holds, while the requests in flight wait. The memory backends hold each record and each
access control entry as such containers: with 100,000 records a worker held ~490,000 of them, and
each full collection took 0.1-0.4 s of CPU (up to 2 s of wall time on a loaded machine): that pause
was the p99 of the requests around it. With the policy below, the collector saw ~20,000 and a full
collection took at most 30 ms of CPU.

``apply`` (called once a serving process's application is built: by ``kinto.server.wsgi.load_app``
under ``kinto start``, and by ``kinto.server.main`` when a paste loader builds it from an ini, as
uWSGI, ``gunicorn --paste`` and pserve do):

- the start-up heap (modules, the registry, routes) is collected once, then frozen
  (``gc.freeze``): no later collection visits it, as Instagram does for its forked workers;
- after a full collection that leaves at least ``FREEZE_SURVIVORS`` objects, those are frozen
  too: the next full collections visit what was created since, so a pause is bounded by that
  number, not by how much the backends hold.

What it costs: a frozen object is still freed when its last reference goes (records replaced or
deleted are), but a reference cycle among frozen objects is never reclaimed. Those are the
objects of the requests in flight during such a collection (some 45 per request form cycles): at
most a few hundred per ``FREEZE_SURVIVORS`` long-lived objects, under 1% of what was frozen. A
process whose heap does not grow (SQL backends) rarely reaches the threshold and keeps CPython's
behaviour after start-up. The ``gc_freeze`` setting turns the policy off.
"""

from __future__ import annotations

import gc
from collections.abc import Mapping
from typing import Any

from pyramid.settings import asbool

__all__ = ["FREEZE_SURVIVORS", "apply"]

#: Survivors of a full collection from which they are frozen (a full collection visits ~1.25 times this at most).
FREEZE_SURVIVORS = 20_000


def apply(settings: Mapping[str, Any]) -> None:
    """Freeze the start-up heap, then large sets of full-collection survivors, unless ``gc_freeze`` is false."""
    if not asbool(settings.get("gc_freeze", True)):
        return
    gc.collect()
    gc.freeze()
    if _freeze_large_survivors not in gc.callbacks:
        gc.callbacks.append(_freeze_large_survivors)


def _freeze_large_survivors(phase: str, info: dict[str, int]) -> None:
    # Right after a full collection, every object the collector still sees is alive: freezing then
    # catches no garbage but the cycles of the requests in flight (see the module's docstring).
    if phase != "stop" or info["generation"] != 2:
        return
    if len(gc.get_objects(generation=2)) >= FREEZE_SURVIVORS:
        gc.freeze()
