"""The Keras compiler of genomes: `GenomeCell` (per step) and `GenomeRNN` (fast).

Also `AttentionPooling`, the attention head of the classification models.
"""

from archsearch.genome.layout import CellPlan
from archsearch.layers.attention import AttentionPooling
from archsearch.layers.cell import GenomeCell, as_genome
from archsearch.layers.rnn import GenomeRNN

__all__ = ["AttentionPooling", "CellPlan", "GenomeCell", "GenomeRNN", "as_genome"]
