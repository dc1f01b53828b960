"""The fused weight layout of a genome, in pure Python.

Which matmuls a cell runs, and where each linear node's projection and bias
live inside them.

Every projection is grouped by the value it projects (its *source*): all
projections of `x` form one kernel `(input_dim, k * units)` that `GenomeRNN`
applies to the whole sequence at once; all projections of one previous state
form one recurrent kernel applied once per step; projections of values computed
inside the step (e.g. the GRU's `r * h`) form one kernel per such value. Column
blocks follow the genome's node order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from archsearch.genome.ops import INPUT, OPS

if TYPE_CHECKING:
    from archsearch.genome.spec import Genome

__all__ = ["CellPlan", "Source"]


@dataclass(frozen=True)
class Source:
    """One fused kernel: the value it projects and the linear nodes it feeds."""

    name: str          # "x", a state slot, or a node id
    kind: str          # "input", "state" or "inner"
    width: int         # rows of the kernel
    targets: tuple[str, ...]  # linear node ids, in column-block order

    @property
    def weight_name(self) -> str:
        """Name of the Keras weight holding this kernel."""
        if self.kind == "input":
            return "kernel"
        if self.kind == "state":
            return f"recurrent_kernel_{self.name}"
        return f"inner_kernel_{self.name}"

    def block(self, node_id: str) -> int:
        """Column-block index of `node_id`'s projection of this source."""
        return self.targets.index(node_id)


class CellPlan:
    """The fused layout of `genome` for a given input width and units.

    Example:
        >>> from archsearch.genome import zoo
        >>> plan = CellPlan(zoo.get("lstm"), input_dim=32, units=8)
        >>> [(s.name, len(s.targets)) for s in plan.sources]
        [('x', 4), ('h', 4)]
    """

    def __init__(self, genome: Genome, input_dim: int, units: int):
        genome.check_widths(input_dim, units)
        self.genome = genome
        self.units = units
        self.input_dim = input_dim
        linears = [n for n in genome.nodes if OPS[n.op].keras == "project"]
        # x-reading linear nodes first, so their biases form one contiguous
        # block that is added to the hoisted x projection.
        self.linears = tuple([n.id for n in linears if INPUT in n.inputs]
                             + [n.id for n in linears if INPUT not in n.inputs])
        self.scales = tuple(n.id for n in genome.nodes if OPS[n.op].keras == "scale")
        self.width = {INPUT: input_dim, **{s: units for s in genome.states}}
        for node in genome.nodes:
            if OPS[node.op].width == "same":  # elementwise: the inputs' width
                self.width[node.id] = max(self.width[r] for r in node.inputs)
            else:  # a learned projection ("units") or square matrix ("square")
                self.width[node.id] = units
        order = [INPUT, *genome.states, *(n.id for n in genome.nodes)]
        targets: dict[str, list[str]] = {}
        for node in genome.nodes:
            if node.id in self.linears:
                for ref in node.inputs:
                    targets.setdefault(ref, []).append(node.id)
        kinds = {INPUT: "input", **{s: "state" for s in genome.states}}
        self.sources = tuple(
            Source(name, kinds.get(name, "inner"), self.width[name], tuple(targets[name]))
            for name in order if name in targets)
        self._by_name = {s.name: s for s in self.sources}
        # Linear nodes that read x get their bias inside the hoisted x projection.
        self.reads_x = frozenset(self._by_name[INPUT].targets) if INPUT in self._by_name \
            else frozenset()
        self.x_raw = any(INPUT in n.inputs for n in genome.nodes
                         if n.id not in self.linears) or INPUT in genome.next_state

    def source(self, name: str) -> Source | None:
        """Returns the fused kernel of `name`, or None if nothing projects it."""
        return self._by_name.get(name)

    @property
    def input_source(self) -> Source | None:
        """The kernel over `x`, hoisted out of the time loop by `GenomeRNN`."""
        return self._by_name.get(INPUT)

    def bias_slice(self, node_id: str) -> slice:
        """Where `node_id`'s bias lives in the `bias` weight."""
        k = self.linears.index(node_id)
        return slice(k * self.units, (k + 1) * self.units)

    def bias_init(self):
        """The bias initial values, one block per linear node (numpy)."""
        import numpy as np

        values = np.zeros(len(self.linears) * self.units, dtype="float32")
        for node_id in self.linears:
            values[self.bias_slice(node_id)] = self.genome.node(node_id).param("bias")
        return values

    def identity_blocks(self, source: Source) -> list[tuple[int, float]]:
        """(column offset, a) of each linear_a block of `source` (init near a*I)."""
        return [(source.block(t) * self.units, self.genome.node(t).param("a"))
                for t in source.targets if OPS[self.genome.node(t).op].width == "square"]

    def parameter_count(self) -> int:
        """Number of trainable parameters of a cell with this layout."""
        kernels = sum(s.width * len(s.targets) * self.units for s in self.sources)
        scales = sum(self.width[self.genome.node(s).inputs[0]] for s in self.scales)
        return kernels + len(self.linears) * self.units + scales
