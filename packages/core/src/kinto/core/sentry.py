"""Error reporting to Sentry, as Kinto 26.5 sets it up (``pip install 'kinto-core[sentry]'``).

Nothing happens unless ``kinto.sentry_dsn`` is set (or ``KINTO_SENTRY_DSN`` /
``SENTRY_DSN`` in the environment, by the settings' rule). Then sentry-sdk is
initialised once, when the application is configured, with:

* its Pyramid integration: an error that ends in a 500 is reported, with the
  request (method, URL, route) attached;
* its logging integration: records at ``kinto.sentry_breadcrumbs_min_level``
  and above (``10``, DEBUG) become breadcrumbs of the next event, records at
  ``kinto.sentry_events_min_level`` and above (``30``, WARNING) become events;
* ``kinto.sentry_env`` as the environment, when set;
* one informational message, ``Running <project_name> <project_version>.``,
  sent when the application is made, as Kinto does.

A DSN set without sentry-sdk installed stops start-up with a line naming the
extra to install.
"""

from __future__ import annotations

from typing import Any

from pyramid.events import ApplicationCreated
from pyramid.exceptions import ConfigurationError

__all__ = ["setup_sentry"]


def setup_sentry(config: Any) -> None:
    """Initialise sentry-sdk from the settings when ``sentry_dsn`` is set (see the module docstring)."""
    settings = config.get_settings()
    dsn = settings["sentry_dsn"]
    if not dsn:
        return
    try:
        import sentry_sdk
        from sentry_sdk.integrations.logging import LoggingIntegration
        from sentry_sdk.integrations.pyramid import PyramidIntegration
    except ImportError as error:
        raise ConfigurationError(
            f"kinto.sentry_dsn is set but sentry-sdk cannot be imported ({error}): pip install 'kinto-core[sentry]'"
        ) from error
    options: dict[str, Any] = {}
    if settings["sentry_env"]:
        options["environment"] = settings["sentry_env"]
    try:
        sentry_sdk.init(
            dsn,
            integrations=[
                PyramidIntegration(),
                LoggingIntegration(
                    level=settings["sentry_breadcrumbs_min_level"],
                    event_level=settings["sentry_events_min_level"],
                ),
            ],
            **options,
        )
    except Exception as error:  # sentry-sdk refuses a malformed DSN
        raise ConfigurationError(f"kinto.sentry_dsn: {error}") from error

    def announce(event: Any) -> None:
        message = f"Running {settings['project_name']} {settings['project_version']}."
        sentry_sdk.capture_message(message, "info")

    config.add_subscriber(announce, ApplicationCreated)
