"""Search strategies as KerasTuner `Oracle` subclasses, one module each."""

from archsearch.search.oracles.base import ArchitectureOracle, space_hyperparameters
from archsearch.search.oracles.evolution import EvolutionOracle
from archsearch.search.oracles.fixed import FixedListOracle
from archsearch.search.oracles.random_search import RandomArchitectureOracle
from archsearch.search.oracles.regularized_evolution import RegularizedEvolutionOracle
from archsearch.search.oracles.strategies import ORACLES

__all__ = ["ArchitectureOracle", "EvolutionOracle", "FixedListOracle", "ORACLES",
           "RandomArchitectureOracle", "RegularizedEvolutionOracle", "space_hyperparameters"]
