"""Search spaces: YAML files that name every knob of a search, validated on load.

>>> import archsearch
>>> space = archsearch.load_search_space("search_spaces/quickstart.yaml")
>>> print(space.summary())  # doctest: +SKIP
"""

from archsearch.space.cells import CellRef
from archsearch.space.loader import SearchSpaceError, load_search_space, parse_search_space
from archsearch.space.schema import (
    STRATEGIES,
    Budget,
    Evolution,
    Fixed,
    Hyperparameters,
    MutationSpec,
    RandomSearch,
    RegularizedEvolution,
    Resources,
    TaskSpec,
    task_names,
)
from archsearch.space.search_space import SearchSpace

__all__ = ["Budget", "CellRef", "Evolution", "Fixed", "Hyperparameters", "MutationSpec",
           "RandomSearch", "RegularizedEvolution", "Resources", "STRATEGIES", "SearchSpace",
           "SearchSpaceError", "TaskSpec", "load_search_space", "parse_search_space",
           "task_names"]
