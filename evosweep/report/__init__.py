"""After the runs: `python -m evosweep.report` tables and plots of an experiment, docs blocks, UI links."""
