"""`python -m stancekit ...` is the `stancekit` command."""

import sys

from .cli import main

sys.exit(main())
