"""Scaling out on Ray: connecting to a cluster, and a run's population over evaluation actors."""
