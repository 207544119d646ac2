"""`python -m cli` runs the counsel-search command."""

import sys

from cli import main

sys.exit(main())
