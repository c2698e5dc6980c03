"""The sweep's core side: Optuna pruner and storage specs, and the trial reporter of a job."""
