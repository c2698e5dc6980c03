"""Genetic operators, vectorised over the population's ``(P, D)`` tensor.

Selection picks parent indices from fitness; crossover mixes two parent
batches; mutation adds noise. Every operator draws from the generator it is
given, so a seeded run repeats bit for bit. Configs name the classes as
``evosweep.algorithms.operators.<Class>``.
"""

from evosweep.algorithms.operators.crossover import (
    ArithmeticCrossover,
    NoCrossover,
    PerModuleCrossover,
    UniformCrossover,
)
from evosweep.algorithms.operators.mutation import GaussianMutation
from evosweep.algorithms.operators.selection import RankSelection, TournamentSelection, TruncationSelection

__all__ = [
    "ArithmeticCrossover", "GaussianMutation", "NoCrossover", "PerModuleCrossover",
    "RankSelection", "TournamentSelection", "TruncationSelection", "UniformCrossover",
]
