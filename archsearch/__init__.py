"""archsearch: architecture search for gated recurrent cells on Keras 3.

The genome layer (`Genome`, `zoo`) is pure data and `import archsearch` does not
import TensorFlow. The Keras compiler, `archsearch.layers`, is imported on first
use, and in any case as soon as Keras itself is imported, so that `GenomeCell`
and `GenomeRNN` are registered for `keras.saving.load_model(..., safe_mode=True)`
after nothing more than `import archsearch`. `open_run` (`archsearch.results`)
reads a run directory's trials and best cells, also without TensorFlow.
"""

from __future__ import annotations

import importlib

from archsearch import _keras_hook, zoo
from archsearch.genome import Genome, GenomeBuilder, GenomeError, Node
from archsearch.genome.mutate import mutate

__version__ = "0.1.0"
__all__ = ["Genome", "GenomeBuilder", "GenomeError", "Node", "layers", "load_search_space",
           "mutate", "open_run", "zoo", "__version__"]

_keras_hook.install()


def __getattr__(name):
    if name == "layers":
        return importlib.import_module("archsearch.layers")
    if name == "load_search_space":  # pydantic is imported on first use
        return importlib.import_module("archsearch.space").load_search_space
    if name == "open_run":  # pandas and the report's reader are imported on first use
        return importlib.import_module("archsearch.results").open_run
    raise AttributeError(f"module 'archsearch' has no attribute {name!r}")
