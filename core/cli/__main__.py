"""`python -m core.cli` (the tests and scripts run the CLI this way, without the installed script)."""

import sys

from core.cli import main

sys.exit(main())
