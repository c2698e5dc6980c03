"""``python -m evosweep.bench`` (see :mod:`evosweep.bench.cli`)."""

from evosweep.bench.cli import main

raise SystemExit(main())
