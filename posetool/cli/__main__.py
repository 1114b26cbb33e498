"""``python -m posetool.cli``: the ``posetool`` command."""

import sys

from posetool.cli import main

sys.exit(main())
