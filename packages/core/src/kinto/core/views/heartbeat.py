"""Health endpoints: ``__heartbeat__`` (every backend and plugin check) and ``__lbheartbeat__``."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor, TimeoutError, wait
from typing import Any

from pyramid.security import NO_PERMISSION_REQUIRED

from kinto.core.registry import heartbeats
from kinto.core.service import Service

logger = logging.getLogger(__name__)


class Unhealthy(Exception):
    """Raised by a heartbeat check to say why it fails: ``__heartbeat__`` shows the reason under ``reasons``."""


heartbeat = Service(name="heartbeat", path="/__heartbeat__", description="Server health")
lbheartbeat = Service(name="lbheartbeat", path="/__lbheartbeat__", description="Web head health")


def _run(name: str, check: Any, request: Any) -> tuple[bool, str | None]:
    """The check's verdict, and its reason when it explains a failure (``Unhealthy``)."""
    try:
        return bool(check(request)), None
    except Unhealthy as unhealthy:
        logger.warning("Heartbeat check %r failed: %s", name, unhealthy)
        return False, str(unhealthy)
    except Exception:
        logger.warning("Heartbeat check %r failed", name, exc_info=True)
        return False, None


@heartbeat.get(permission=NO_PERMISSION_REQUIRED)
def get_heartbeat(request: Any) -> dict[str, Any]:
    """Run every check in parallel; a check slower than ``heartbeat_timeout_seconds`` counts as failed.

    The answer maps each check to its verdict, as Kinto's does; ``reasons`` is added when a failed
    check said why (e.g. ``{"storage": "the database holds Kinto's storage schema 26: run kinto migrate..."}``).
    """
    checks = heartbeats(request.registry)
    timeout = request.registry.settings["heartbeat_timeout_seconds"]
    results: dict[str, Any] = {}
    reasons: dict[str, str] = {}
    if checks:
        executor = ThreadPoolExecutor(max_workers=len(checks))
        futures = {name: executor.submit(_run, name, check, request) for name, check in checks.items()}
        wait(futures.values(), timeout=timeout)
        for name, future in futures.items():
            try:
                results[name], reason = future.result(timeout=0)
            except TimeoutError:
                logger.warning("Heartbeat check %r timed out after %ss", name, timeout)
                results[name], reason = False, None
            if reason:
                reasons[name] = reason
        executor.shutdown(wait=False, cancel_futures=True)
    if not all(results.values()):
        request.response.status = 503
    if reasons:
        results["reasons"] = reasons
    return results


@lbheartbeat.get(permission=NO_PERMISSION_REQUIRED)
def get_lbheartbeat(request: Any) -> dict[str, Any]:
    return {}
