"""`MutableGraph`: an editable copy of a genome that mutation operators work on.

A `Genome` is frozen and validated once; operators edit this scratch copy
instead (rewire inputs, insert and drop nodes) and `to_genome()` validates and
prunes the result. Every listing it returns is in a deterministic order (the
cell's inputs, then nodes in insertion order), so an operator that draws from
it with a seeded RNG makes the same choice on every run.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from archsearch.genome.ops import OPS
from archsearch.genome.spec import INPUT, Genome, Node

__all__ = ["MutableGraph", "MutableNode"]


@dataclass
class MutableNode:
    """An editable node: op, input names and params."""

    op: str
    inputs: list[str]
    params: dict[str, float] = field(default_factory=dict)


class MutableGraph:
    """An editable cell graph with the same state slots as the genome it copies.

    Args:
        genome: The genome to copy.
        prefix: Prefix of the ids `new_id()` hands out (`m0`, `m1`, ...).

    Example:
        >>> from archsearch.genome import zoo
        >>> g = MutableGraph(zoo.get("tanh_rnn"))
        >>> g.ancestors("h_new")
        ['x', 'h', 'h_pre']
        >>> g.insert("tanh", ["h"])
        'm0'
    """

    def __init__(self, genome: Genome, prefix: str = "m"):
        self.states = genome.states
        self.output = genome.output
        self.nodes: dict[str, MutableNode] = {
            n.id: MutableNode(n.op, list(n.inputs), dict(n.params)) for n in genome.nodes}
        self.next_state: dict[str, str] = dict(zip(genome.states, genome.next_state,
                                                   strict=True))
        self._prefix = prefix
        self._counter = 0

    # -- queries --------------------------------------------------------------
    def names(self) -> list[str]:
        """Every value of the cell: `x`, the state slots, then the nodes."""
        return [INPUT, *self.states, *self.nodes]

    def readers(self, ref: str) -> list[str]:
        """Nodes that read `ref` (each once)."""
        return [i for i, n in self.nodes.items() if ref in n.inputs]

    def fan_out(self, ref: str) -> int:
        """How many times `ref` is used: input edges plus next-state entries."""
        uses = sum(n.inputs.count(ref) for n in self.nodes.values())
        return uses + sum(1 for r in self.next_state.values() if r == ref)

    def ancestors(self, ref: str) -> list[str]:
        """Values `ref` depends on (not itself), in `names()` order."""
        seen: set[str] = set()
        stack = list(self.nodes[ref].inputs) if ref in self.nodes else []
        while stack:
            current = stack.pop()
            if current in seen:
                continue
            seen.add(current)
            if current in self.nodes:
                stack.extend(self.nodes[current].inputs)
        return [name for name in self.names() if name in seen]

    def descendants(self, ref: str) -> list[str]:
        """Nodes that depend on `ref` (not itself), in `names()` order."""
        seen: set[str] = set()
        frontier = [ref]
        while frontier:
            current = frontier.pop()
            for reader in self.readers(current):
                if reader not in seen:
                    seen.add(reader)
                    frontier.append(reader)
        return [name for name in self.nodes if name in seen]

    # -- edits ----------------------------------------------------------------
    def new_id(self) -> str:
        """A node id not used in the graph: `m0`, `m1`, ... (deterministic)."""
        taken = set(self.names())
        while f"{self._prefix}{self._counter}" in taken:
            self._counter += 1
        node_id = f"{self._prefix}{self._counter}"
        self._counter += 1
        return node_id

    def insert(self, op: str, inputs: list[str], params: dict | None = None) -> str:
        """Adds a node with a fresh id; returns the id."""
        node_id = self.new_id()
        self.nodes[node_id] = MutableNode(op, list(inputs), dict(params or {}))
        return node_id

    def redirect(self, old: str, new: str, skip: tuple[str, ...] = ()) -> None:
        """Makes every reader of `old` (and next-state entry) use `new` instead.

        Args:
            old: The value being replaced.
            new: Its replacement.
            skip: Nodes left reading `old` (e.g. the replacement itself).
        """
        for node_id, node in self.nodes.items():
            if node_id not in skip:
                node.inputs = [new if r == old else r for r in node.inputs]
        for slot, ref in self.next_state.items():
            if ref == old:
                self.next_state[slot] = new

    def remove(self, node_id: str) -> None:
        """Drops `node_id` (its readers must have been redirected first)."""
        del self.nodes[node_id]

    def to_genome(self, name: str | None = None, description: str | None = None) -> Genome:
        """Validates and prunes the graph into a `Genome` (`GenomeError` if invalid).

        A `linear` node that came to list one input twice keeps it once: two
        projections of the same value sum to one projection.
        """
        nodes = []
        for node_id, node in self.nodes.items():
            inputs = node.inputs
            if OPS[node.op].unique_inputs:
                inputs = list(dict.fromkeys(inputs))
            nodes.append(Node(node_id, node.op, tuple(inputs), node.params))
        return Genome(nodes, self.next_state, self.states, self.output, name, description)
