"""The Keras compiler of genomes: `GenomeCell` (per step) and `GenomeRNN` (fast).

Also `AttentionPooling`, the attention head of the classification models, and
`ChronoInitializer`, the chrono initialisation of forget-gate biases.
"""

from archsearch.genome.layout import CellPlan
from archsearch.layers.attention import AttentionPooling
from archsearch.layers.cell import GenomeCell, as_genome
from archsearch.layers.chrono import ChronoInitializer
from archsearch.layers.rnn import GenomeRNN

__all__ = ["AttentionPooling", "CellPlan", "ChronoInitializer", "GenomeCell", "GenomeRNN",
           "as_genome"]
