"""`archsearch.zoo`: the named reference cells (see `archsearch.genome.zoo`)."""

from archsearch.genome.zoo import ZooEntry, entries, entry, get, names

__all__ = ["ZooEntry", "entries", "entry", "get", "names"]
