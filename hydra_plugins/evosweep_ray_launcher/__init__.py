"""evosweep's Hydra launcher on Ray: ``hydra/launcher=ray`` (its config node in ``config.py``)."""
