"""``python -m alad``: the ``alad`` command line (``alad --help``)."""

import sys

from .cli import main

sys.exit(main())
