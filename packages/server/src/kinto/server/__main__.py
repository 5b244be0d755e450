"""``python -m kinto.server``: the ``kinto`` command."""

import sys

from kinto.server.cli import main

sys.exit(main())
