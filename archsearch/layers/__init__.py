"""The Keras compiler of genomes: `GenomeCell` (per step) and `GenomeRNN` (fast)."""

from archsearch.genome.layout import CellPlan
from archsearch.layers.cell import GenomeCell, as_genome
from archsearch.layers.rnn import GenomeRNN

__all__ = ["CellPlan", "GenomeCell", "GenomeRNN", "as_genome"]
