"""python -m evosweep.bench: how fast a population is evaluated, against the baselines."""
