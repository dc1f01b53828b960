"""Search: KerasTuner oracles (strategies), the Ray Tune executor, the run directory.

The oracles load on first use (module `__getattr__`): Ray workers import this
package for the trainables in `worker`, `batches` and `simulate`, and a
worker that runs simulated trials then never loads KerasTuner, Keras or
TensorFlow (one that trains loads them with `archsearch.training`).
"""

from __future__ import annotations

import importlib

from archsearch.rundir.store import RunDirError

_ORACLES = ("ArchitectureOracle", "EvolutionOracle", "FixedListOracle",
            "RandomArchitectureOracle", "RegularizedEvolutionOracle")

__all__ = [*_ORACLES, "RunDirError", "run_search"]


def __getattr__(name):
    if name in _ORACLES:
        return getattr(importlib.import_module("archsearch.search.oracles"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def run_search(*args, **kwargs):
    """Runs a search on Ray (see `archsearch.search.executor.run_search`)."""
    from archsearch.search.executor import run_search as _run

    return _run(*args, **kwargs)
