"""`Genome`: a recurrent cell as a validated, pruned DAG of pure data.

The helpers it delegates to (`serialize`, `fingerprint`, `equations`,
`layout`) take a genome as plain data and never import this module, so the
dependencies of `archsearch.genome` point one way.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping

from archsearch.genome import equations as _equations
from archsearch.genome import fingerprint as _fingerprint
from archsearch.genome import layout as _layout
from archsearch.genome import serialize as _serialize
from archsearch.genome.errors import GenomeError
from archsearch.genome.limits import MAX_NODES, MAX_STATES, MAX_TEXT_CHARS
from archsearch.genome.node import Node, check_ident, short_repr
from archsearch.genome.ops import INPUT, OPS

__all__ = ["Node", "Genome", "INPUT"]


class Genome:
    """A recurrent cell: a DAG from `x` and the previous states to the next states.

    The cell reads the input `x` and one value per state slot (`h`, or `h` and
    `c`, ...), computes its nodes, and produces the next value of every slot.
    `output` names the slot that is also the cell's output at each step. A
    genome is validated when it is built (references resolve, arities and
    parameters are right, no cycles, every slot produced) and pruned of nodes
    that no next state depends on; nodes are kept in a topological order.

    Args:
        nodes: The operations, in any order.
        next_state: For every state slot, the name (node, slot or `x`) holding
            its next value.
        states: Names of the state slots, in Keras' state order.
        output: The slot returned as the cell's output (default: the first).
        name: Optional name (not part of the fingerprint).
        description: Optional one-line description.

    Raises:
        GenomeError: naming the node or slot at fault, or the limit exceeded
            (`archsearch.genome.limits`: at most `MAX_NODES` nodes,
            `MAX_STATES` slots, `MAX_INPUTS` inputs per node, names of
            `MAX_NAME_CHARS`), so every operation on a genome does bounded work.

    Example:
        >>> g = Genome(
        ...     [Node("z", "linear", ("x", "h")), Node("h_new", "tanh", ("z",))],
        ...     next_state={"h": "h_new"}, states=("h",))
        >>> [n.id for n in g.nodes], g.output
        (['z', 'h_new'], 'h')
    """

    __slots__ = ("nodes", "states", "next_state", "output", "name", "description",
                 "pruned", "square_input_reasons", "_by_id")

    def __init__(self, nodes: Iterable[Node], next_state: Mapping[str, str],
                 states: Iterable[str] = ("h",), output: str | None = None,
                 name: str | None = None, description: str | None = None):
        if isinstance(states, str) or not isinstance(states, Iterable):
            states = (states,)
        states = tuple(itertools.islice(states, MAX_STATES + 1))
        if len(states) > MAX_STATES:
            raise GenomeError(f"a genome has at most {MAX_STATES} state slots (limit "
                              f"MAX_STATES). Received: more than {MAX_STATES} slots")
        if not states:
            raise GenomeError("a genome needs at least one state slot")
        for s in states:
            check_ident(s, "state slot name")
            if s == INPUT:
                raise GenomeError(f"state slot may not be named {INPUT!r} (the input)")
        if len(set(states)) != len(states):
            raise GenomeError(f"state slot names must be unique. Received: {list(states)}")
        for what, text in (("name", name), ("description", description)):
            if text is not None and (not isinstance(text, str) or len(text) > MAX_TEXT_CHARS):
                raise GenomeError(f"the genome's {what} must be a string of at most "
                                  f"{MAX_TEXT_CHARS} characters (limit MAX_TEXT_CHARS). "
                                  f"Received: {what}={short_repr(text)}")
        if isinstance(nodes, Iterable) and not isinstance(nodes, str | bytes | Mapping):
            nodes = tuple(itertools.islice(nodes, MAX_NODES + 1))
        else:
            raise GenomeError(f"nodes must be a list of Node objects. Received: "
                              f"{short_repr(nodes)}")
        if len(nodes) > MAX_NODES:
            raise GenomeError(f"a genome has at most {MAX_NODES} nodes (limit MAX_NODES). "
                              f"Received: more than {MAX_NODES} nodes")
        by_id: dict[str, Node] = {}
        for node in nodes:
            if not isinstance(node, Node):
                raise GenomeError(f"nodes must be Node objects. Received: {short_repr(node)}")
            if node.id in by_id:
                raise GenomeError(f"node {node.id!r}: id used twice")
            if node.id == INPUT or node.id in states:
                raise GenomeError(f"node {node.id!r}: id clashes with an input of the cell")
            by_id[node.id] = node
        known = set(by_id) | {INPUT, *states}
        for node in nodes:
            for ref in node.inputs:
                if ref not in known:
                    raise GenomeError(f"node {node.id!r}: input {ref!r} is not x, a state "
                                      f"slot or a node")
        if not isinstance(next_state, Mapping):
            raise GenomeError("next_state must map every state slot to a node name")
        missing = [s for s in states if s not in next_state]
        extra = [s for s in next_state if s not in states]
        if missing:
            raise GenomeError(f"state slot {missing[0]!r} is never produced: next_state "
                              f"needs an entry for it")
        if extra:
            raise GenomeError(f"next_state names {short_repr(extra[0])}, which is not a state "
                              f"slot (slots: {list(states)})")
        for s in states:
            if not isinstance(next_state[s], str) or next_state[s] not in known:
                raise GenomeError(f"next state of slot {s!r}: expected x, a state slot or "
                                  f"a node. Received: {short_repr(next_state[s])}")
        output = states[0] if output is None else output
        if output not in states:
            raise GenomeError(f"output must be one of the state slots {list(states)}. "
                              f"Received: {short_repr(output)}")
        order = _topological_order(nodes, by_id)
        live = _live_nodes(by_id, [next_state[s] for s in states])
        self.nodes = tuple(by_id[i] for i in order if i in live)
        self.pruned = tuple(i for i in order if i not in live)
        self.states = states
        self.next_state = tuple(next_state[s] for s in states)
        self.output = output
        self.name = name
        self.description = description
        self._by_id = {n.id: n for n in self.nodes}
        self.square_input_reasons = _square_input_reasons(self)

    # -- access ---------------------------------------------------------------
    @property
    def inputs(self) -> tuple[str, ...]:
        """Names the cell reads: `x` then the state slots."""
        return (INPUT, *self.states)

    def node(self, node_id: str) -> Node:
        """Returns the node called `node_id` (`GenomeError` if there is none)."""
        try:
            return self._by_id[node_id]
        except KeyError:
            raise GenomeError(f"no node {node_id!r} in this genome") from None

    def next_of(self, slot: str) -> str:
        """Returns the name holding the next value of state slot `slot`."""
        return self.next_state[self.states.index(slot)]

    def consumers(self) -> dict[str, list[str]]:
        """Maps every input and node name to the nodes that read it."""
        out: dict[str, list[str]] = {name: [] for name in (*self.inputs, *self._by_id)}
        for node in self.nodes:
            for ref in node.inputs:
                out[ref].append(node.id)
        return out

    @property
    def needs_square_input(self) -> bool:
        """True when the cell uses the raw input elementwise (input width must == units)."""
        return bool(self.square_input_reasons)

    def check_widths(self, input_dim: int, units: int) -> None:
        """Raises `GenomeError` if the cell cannot run with these widths."""
        if input_dim != units and self.square_input_reasons:
            raise GenomeError(f"{self.square_input_reasons[0]}, so this cell needs input "
                              f"width == units; got input width {input_dim} and units {units}")

    def parameter_count(self, input_dim: int, units: int) -> int:
        """Trainable parameters of this cell for an input width and units."""
        return _layout.CellPlan(self, input_dim, units).parameter_count()

    # -- identity, serialisation, rendering ------------------------------------
    def to_dict(self) -> dict:
        """Returns the JSON-ready dict (see `archsearch.genome.serialize`)."""
        return _serialize.genome_to_dict(self)

    def to_json(self, indent: int | None = 2) -> str:
        """Returns the genome as JSON text with a format version."""
        return _serialize.genome_to_json(self, indent=indent)

    @classmethod
    def from_dict(cls, data) -> Genome:
        """Builds a genome from `to_dict` output; `GenomeError` names a bad field."""
        return cls(**_serialize.fields_from_dict(data))

    @classmethod
    def from_json(cls, text) -> Genome:
        """Parses JSON text; `GenomeError` names a bad field (nothing else escapes)."""
        return cls(**_serialize.fields_from_json(text))

    def fingerprint(self) -> str:
        """Hex hash invariant to node names and commutative input order."""
        return _fingerprint.fingerprint(self)

    def equations(self) -> str:
        """Renders the cell as readable math, one line per named value."""
        return _equations.equations(self)

    def with_name(self, name: str | None, description: str | None = None) -> Genome:
        """Returns the same cell under another name (and description)."""
        return Genome(self.nodes, dict(zip(self.states, self.next_state, strict=True)),
                      self.states, self.output, name, description)

    def __eq__(self, other):
        if not isinstance(other, Genome):
            return NotImplemented
        return (self.nodes, self.states, self.next_state, self.output) == (
            other.nodes, other.states, other.next_state, other.output)

    def __hash__(self):
        return hash((self.nodes, self.states, self.next_state, self.output))

    def __repr__(self):
        label = f"{self.name!r}, " if self.name else ""
        return (f"Genome({label}states={list(self.states)}, nodes={len(self.nodes)}, "
                f"fingerprint={self.fingerprint()[:12]})")


def _topological_order(nodes: tuple[Node, ...], by_id: dict[str, Node]) -> list[str]:
    """Kahn's algorithm, stable in the given order; raises on a cycle."""
    indegree = {n.id: sum(1 for r in n.inputs if r in by_id) for n in nodes}
    readers: dict[str, list[str]] = {n.id: [] for n in nodes}
    for n in nodes:
        for r in n.inputs:
            if r in by_id:
                readers[r].append(n.id)
    position = {n.id: k for k, n in enumerate(nodes)}
    ready = sorted((i for i, d in indegree.items() if d == 0), key=position.get)
    order: list[str] = []
    while ready:
        current = ready.pop(0)
        order.append(current)
        for reader in readers[current]:
            indegree[reader] -= 1
            if indegree[reader] == 0:
                ready.append(reader)
        ready.sort(key=position.get)
    if len(order) != len(nodes):
        stuck = [n.id for n in nodes if indegree[n.id] > 0]
        raise GenomeError(f"node {stuck[0]!r}: part of a cycle ({', '.join(stuck)}); a cell "
                          f"reads previous states only through its state slots")
    return order


def _live_nodes(by_id: dict[str, Node], roots: list[str]) -> set[str]:
    live: set[str] = set()
    stack = [r for r in roots if r in by_id]
    while stack:
        current = stack.pop()
        if current in live:
            continue
        live.add(current)
        stack.extend(r for r in by_id[current].inputs if r in by_id)
    return live


def _square_input_reasons(genome: Genome) -> tuple[str, ...]:
    """Why (if at all) the cell needs input width == units, node by node."""
    raw = {INPUT}  # values whose width is the input width
    reasons = []
    for node in genome.nodes:
        spec = OPS[node.op]
        if spec.width == "units":
            continue
        if spec.width == "square":
            if node.inputs[0] in raw:
                reasons.append(f"node {node.id!r}: {node.op} needs a square matrix but reads "
                               f"the raw input x")
            continue
        if spec.width == "same":
            if all(r in raw for r in node.inputs):
                raw.add(node.id)
            elif any(r in raw for r in node.inputs):
                reasons.append(f"node {node.id!r}: {node.op} combines the raw input x with "
                               f"units-wide values")
    for slot, ref in zip(genome.states, genome.next_state, strict=True):
        if ref in raw:
            reasons.append(f"state slot {slot!r}: its next value is input-wide")
    return tuple(reasons)
