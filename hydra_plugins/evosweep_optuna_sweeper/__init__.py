"""evosweep's Hydra sweeper on Optuna >= 4: ``- override hydra/sweeper: evosweep_optuna``."""
