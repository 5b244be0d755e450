"""One collection of a million records served by our server (``nox -s bench -- scale``; ``--help`` lists options)."""

import sys

from httpbench.scale import main

if __name__ == "__main__":
    sys.exit(main())
