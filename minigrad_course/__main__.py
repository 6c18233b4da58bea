"""``python -m minigrad_course``: the ``minigrad-course`` command, for when its script is
not on PATH (a virtual environment not activated, a Python started by another tool)."""

import sys

from .cli import main

sys.exit(main())
