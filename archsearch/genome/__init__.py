"""Cells as pure data: spec, validation, JSON, fingerprint, equations, zoo.

This package never imports TensorFlow; mutation, hashing and reporting run on it
in milliseconds.
"""

from archsearch.genome import limits, zoo
from archsearch.genome.builder import GenomeBuilder
from archsearch.genome.errors import GenomeError
from archsearch.genome.layout import CellPlan
from archsearch.genome.ops import OPS, OpSpec
from archsearch.genome.spec import INPUT, Genome, Node

__all__ = ["CellPlan", "Genome", "GenomeBuilder", "GenomeError", "INPUT", "Node", "OPS", "OpSpec",
           "limits", "zoo"]
