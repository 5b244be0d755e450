"""Factory (granian; gunicorn calls it) serving the ``[app:main]`` of the ini file named by ``BENCH_INI``.

Kinto 26.5.0 (``use = egg:kinto``) and our server (``use = egg:kinto-server``) are both paste
applications, so both are served through this one loader, by the granian of their own venv.
Runs inside the server's venv: it imports nothing but Pyramid.
"""

from __future__ import annotations

import os
from typing import Any

from pyramid.paster import get_app, setup_logging


def load() -> Any:
    """Build the WSGI application of ``$BENCH_INI``, with the logging that file configures."""
    ini = os.environ["BENCH_INI"]
    setup_logging(ini)
    return get_app(ini, "main")
