"""Size limits of a genome, so that every genome operation does bounded work.

A genome and its JSON come from users, files and mutation chains. Each limit is
far above what a real cell needs (the zoo's largest cell has 16 nodes; 500
generations of `search_spaces/jozefowicz2015.yaml`-style mutation stay under
100 nodes) and low enough that validation, the fingerprint, the equations and
mutation each finish in well under a second.
"""

from __future__ import annotations

__all__ = ["MAX_NODES", "MAX_INPUTS", "MAX_STATES", "MAX_JSON_CHARS", "MAX_JSON_DEPTH",
           "MAX_NAME_CHARS", "MAX_TEXT_CHARS", "MAX_SEARCH_NODES"]

#: Most nodes in a genome (before pruning dead nodes).
MAX_NODES = 256
#: Most inputs of one node (a `linear` node reading many values).
MAX_INPUTS = 64
#: Most state slots.
MAX_STATES = 16
#: Most characters of genome JSON text.
MAX_JSON_CHARS = 1_000_000
#: Deepest nesting of JSON arrays and objects (a genome needs 3).
MAX_JSON_DEPTH = 32
#: Longest node id or state slot name.
MAX_NAME_CHARS = 64
#: Longest genome name or description.
MAX_TEXT_CHARS = 1_000
#: Most search nodes (refinements) of the canonical labelling of one genome.
MAX_SEARCH_NODES = 20_000
