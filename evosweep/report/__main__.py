"""``python -m evosweep.report EXPERIMENT`` (see :mod:`evosweep.report.cli`)."""

import sys

from evosweep.report.cli import main

sys.exit(main())
