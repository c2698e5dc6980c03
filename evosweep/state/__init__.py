"""Run state: atomic checkpoints and what resuming from one needs."""
