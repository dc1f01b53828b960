"""Search: KerasTuner oracles (strategies), the Ray Tune executor, the run directory."""

from archsearch.search.oracles import (
    ArchitectureOracle,
    EvolutionOracle,
    FixedListOracle,
    RandomArchitectureOracle,
    RegularizedEvolutionOracle,
)
from archsearch.search.storage import RunDirError, RunStorage

__all__ = ["ArchitectureOracle", "EvolutionOracle", "FixedListOracle",
           "RandomArchitectureOracle", "RegularizedEvolutionOracle", "RunDirError", "RunStorage",
           "run_search"]


def run_search(*args, **kwargs):
    """Runs a search on Ray (see `archsearch.search.executor.run_search`)."""
    from archsearch.search.executor import run_search as _run

    return _run(*args, **kwargs)
