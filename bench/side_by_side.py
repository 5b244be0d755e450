"""Side-by-side HTTP benchmark: our server against Kinto 26.5.0 (``nox -s bench``; ``--help`` lists options)."""

import sys

from httpbench.cli import main

if __name__ == "__main__":
    sys.exit(main())
