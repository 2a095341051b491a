"""``python -m graphcl``: the command line (see :mod:`graphcl.cli`)."""

import sys

from graphcl.cli import main

sys.exit(main())
