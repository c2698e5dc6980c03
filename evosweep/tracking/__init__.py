"""Recording runs: the MLflow tracker and stores, databases and their preflight checks."""
