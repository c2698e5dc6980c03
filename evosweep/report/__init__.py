"""After the runs: the end-of-run summary, fitness plots, and python -m evosweep.report tables."""
