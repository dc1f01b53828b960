"""Search strategies as KerasTuner `Oracle` subclasses."""

from archsearch.search.oracles.base import ArchitectureOracle, space_hyperparameters
from archsearch.search.oracles.strategies import (
    ORACLES,
    EvolutionOracle,
    FixedListOracle,
    RandomArchitectureOracle,
    RegularizedEvolutionOracle,
)

__all__ = ["ArchitectureOracle", "EvolutionOracle", "FixedListOracle", "ORACLES",
           "RandomArchitectureOracle", "RegularizedEvolutionOracle", "space_hyperparameters"]
