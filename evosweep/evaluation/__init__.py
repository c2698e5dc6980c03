"""Scoring a population: prompt encoding, batched generation, token log-probs, held-out answers."""
