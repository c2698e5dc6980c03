"""Recording runs: MLflow tracker and stores, checkpoints and resume, the Optuna trial reporter."""
