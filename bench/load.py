"""Deployments under many connections: ours against Kinto 26.5.0 (``nox -s bench -- load``; ``--help`` lists options)."""

import sys

from httpbench.load import main

if __name__ == "__main__":
    sys.exit(main())
