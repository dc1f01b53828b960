"""The paper's six mutation operators, as small pluggable units.

Each operator edits one node of a `MutableGraph` with an RNG it is handed
(`random.Random`), and says what it did. `archsearch.genome.mutate` picks, for
every node it transforms, one of the operators that apply to that node, with
probability proportional to the operators' weights.

Which nodes are "activation nodes" (transformation 1): the unary ops `tanh`,
`sigmoid`, `relu`, `identity` and `linear_a` (the paper's Linear(a, x)). A
`linear` node (the sum of projections of several values plus a bias, i.e. a
gate's pre-activation) is the cell's learned affine map, not an activation: it
is changed only by transformations 3-6, so mutation never drops a gate's
projection of `x` or `h` silently by turning it into, say, `tanh`.
"""

from __future__ import annotations

import abc
import math
import random
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar

from archsearch.genome.errors import GenomeError
from archsearch.genome.graph import MutableGraph
from archsearch.genome.ops import (
    ACTIVATIONS,
    ELEMENTWISE_BINARY,
    PAPER_LINEAR_A,
    SWAPPABLE_ACTIVATIONS,
)

__all__ = [
    "Activation", "Operator", "ChangeActivation", "ChangeElementwise", "InsertActivation",
    "RemoveNode", "ReplaceWithAncestor", "ReplaceWithCombination", "OPERATORS",
    "DEFAULT_ACTIVATIONS", "DEFAULT_ELEMENTWISE", "ACTIVATION_OPS", "parse_activations",
    "parse_elementwise",
]

#: The paper's activation set: tanh, sigmoid, ReLU, Linear(0|1|0.9|1.1, x).
DEFAULT_ACTIVATIONS = (*(op for op in ACTIVATIONS if op != "identity"),
                       *(f"linear({a:g})" for a in PAPER_LINEAR_A))
#: The paper's elementwise set: multiplication, addition, subtraction.
DEFAULT_ELEMENTWISE = ("mul", "add", "sub")
#: Ops that count as activation nodes for transformation 1 (from the op table).
ACTIVATION_OPS = SWAPPABLE_ACTIVATIONS

_LINEAR = re.compile(r"^\s*(?:linear_a|linear)\s*\(\s*([-+0-9.eE]+)\s*(?:,\s*x\s*)?\)\s*$",
                     re.IGNORECASE)


@dataclass(frozen=True)
class Activation:
    """One member of the activation set: an op, and `a` for Linear(a, x).

    Example:
        >>> Activation.parse("Linear(0.9, x)")
        Activation(op='linear_a', a=0.9)
        >>> str(Activation.parse("tanh"))
        'tanh'
    """

    op: str
    a: float | None = None

    @classmethod
    def parse(cls, value) -> Activation:
        """Reads `tanh`, `sigmoid`, `relu`, `identity` or `linear(a)` / `Linear(a, x)`."""
        if isinstance(value, Activation):
            return value
        if isinstance(value, str):
            text = value.strip().lower()
            if text in ACTIVATIONS:
                return cls(text)
            match = _LINEAR.match(text)
            if match:
                try:
                    a = float(match.group(1))
                except ValueError:
                    a = math.nan
                if math.isfinite(a):
                    return cls("linear_a", a)
        raise GenomeError(f"expected an activation: tanh, sigmoid, relu, identity or "
                          f"linear(a) for the paper's Linear(a, x). Received: {value!r}")

    @classmethod
    def of(cls, op: str, params: dict) -> Activation:
        """The activation a node with `op` and `params` computes."""
        return cls(op, float(params["a"])) if op == "linear_a" else cls(op)

    def params(self) -> dict[str, float]:
        """Node params of this activation."""
        return {"a": self.a} if self.op == "linear_a" else {}

    def of_value(self, value: str) -> str:
        """How the activation of `value` reads, e.g. `Linear(0.9, h)`."""
        return f"Linear({self.a:g}, {value})" if self.op == "linear_a" else f"{self.op}({value})"

    def __str__(self):
        return f"linear({self.a:g})" if self.op == "linear_a" else self.op


def parse_activations(values: Iterable) -> tuple[Activation, ...]:
    """Parses an activation set (non-empty, no duplicates)."""
    if isinstance(values, str):
        values = [values]
    parsed = tuple(Activation.parse(v) for v in values)
    if not parsed:
        raise GenomeError("the activation set is empty; expected at least one activation")
    if len(set(parsed)) != len(parsed):
        raise GenomeError(f"the activation set lists an activation twice. Received: "
                          f"{[str(a) for a in parsed]}")
    return parsed


def parse_elementwise(values: Iterable) -> tuple[str, ...]:
    """Parses an elementwise set: a non-empty subset of mul, add, sub."""
    if isinstance(values, str):
        values = [values]
    parsed = tuple(values)
    for op in parsed:
        if op not in ELEMENTWISE_BINARY:
            raise GenomeError(f"expected elementwise ops from {list(ELEMENTWISE_BINARY)}. "
                              f"Received: {op!r}")
    if not parsed or len(set(parsed)) != len(parsed):
        raise GenomeError(f"the elementwise set must be non-empty without repeats. Received: "
                          f"{list(parsed)}")
    return parsed


class Operator(abc.ABC):
    """A transformation of one node of a `MutableGraph`.

    Subclasses set `name` and implement `apply`; `applies` filters the nodes
    an operator can act on (default: every node).

    Args:
        weight: Relative probability of picking this operator among those that
            apply to a node (0 disables it).
        activations: The activation set (strings or `Activation`s).
        elementwise: The elementwise op set.
    """

    name: ClassVar[str]

    def __init__(self, weight: float = 1.0, *, activations: Iterable = DEFAULT_ACTIVATIONS,
                 elementwise: Iterable = DEFAULT_ELEMENTWISE):
        if isinstance(weight, bool) or not isinstance(weight, int | float) or \
                not math.isfinite(weight) or weight < 0:
            raise GenomeError(f"operator {self.name!r}: weight must be a finite number >= 0. "
                              f"Received: weight={weight!r}")
        self.weight = float(weight)
        self.activations = parse_activations(activations)
        self.elementwise = parse_elementwise(elementwise)

    def applies(self, graph: MutableGraph, node_id: str) -> bool:
        """Whether the operator can transform `node_id`."""
        return True

    @abc.abstractmethod
    def apply(self, graph: MutableGraph, node_id: str, rng: random.Random) -> str | None:
        """Transforms `node_id` in place; returns what it did, or None if it could not."""

    def __repr__(self):
        return f"{type(self).__name__}(weight={self.weight:g})"


class _Swap(Operator):
    """A node's op becomes another member of a set (transformations 1 and 2)."""

    def _choices(self, graph, node_id) -> list:
        raise NotImplementedError

    def _swap(self, node, new) -> str:
        """Turns `node` into `new`; returns what it was."""
        raise NotImplementedError

    def applies(self, graph, node_id):
        return bool(self._choices(graph, node_id))

    def apply(self, graph, node_id, rng):
        choices = self._choices(graph, node_id)
        if not choices:
            return None
        new = rng.choice(choices)
        before = self._swap(graph.nodes[node_id], new)
        return f"{node_id}: {before} -> {new}"


class ChangeActivation(_Swap):
    """1. An activation node becomes another member of the activation set."""

    name = "change_activation"

    def _choices(self, graph, node_id):
        node = graph.nodes[node_id]
        if node.op not in ACTIVATION_OPS:
            return []
        current = Activation.of(node.op, node.params)
        return [a for a in self.activations if a != current]

    def _swap(self, node, new):
        before = Activation.of(node.op, node.params)
        bias = node.params.get("bias") if new.op == "linear_a" else None
        node.op, node.params = new.op, {**new.params(), **({"bias": bias} if bias else {})}
        return before


class ChangeElementwise(_Swap):
    """2. An elementwise node becomes another member of the elementwise set."""

    name = "change_elementwise"

    def _choices(self, graph, node_id):
        op = graph.nodes[node_id].op
        return [e for e in self.elementwise if e != op] if op in ELEMENTWISE_BINARY else []

    def _swap(self, node, new):
        before, node.op = node.op, new
        return before


class InsertActivation(Operator):
    """3. A random activation is inserted between the node and one of its inputs."""

    name = "insert_activation"

    def apply(self, graph, node_id, rng):
        node = graph.nodes[node_id]
        k = rng.randrange(len(node.inputs))
        act = rng.choice(self.activations)
        parent = node.inputs[k]
        new = graph.insert(act.op, [parent], act.params())
        node.inputs[k] = new
        return f"{node_id}: reads {new} = {act.of_value(parent)} instead of {parent}"


class RemoveNode(Operator):
    """4. A node with exactly one input and one output is bypassed and removed."""

    name = "remove_node"

    def applies(self, graph, node_id):
        return len(graph.nodes[node_id].inputs) == 1 and graph.fan_out(node_id) == 1

    def apply(self, graph, node_id, rng):
        if not self.applies(graph, node_id):
            return None
        parent = graph.nodes[node_id].inputs[0]
        graph.redirect(node_id, parent)
        graph.remove(node_id)
        return f"{node_id}: removed (its reader now reads {parent})"


class ReplaceWithAncestor(Operator):
    """5. The node is replaced by one of its ancestors."""

    name = "replace_with_ancestor"

    def apply(self, graph, node_id, rng):
        ancestor = rng.choice(graph.ancestors(node_id))
        graph.redirect(node_id, ancestor)
        graph.remove(node_id)
        return f"{node_id}: replaced by its ancestor {ancestor}"


class ReplaceWithCombination(Operator):
    """6. The node is replaced by op(an ancestor of it, an ancestor of a random node A).

    `op` is drawn from the elementwise set. Ancestors of A that depend on the
    node are excluded (they would close a cycle).
    """

    name = "replace_with_combination"

    def apply(self, graph, node_id, rng):
        other = rng.choice(list(graph.nodes))
        banned = {node_id, *graph.descendants(node_id)}
        second = [a for a in graph.ancestors(other) if a not in banned]
        if not second:
            return None
        a = rng.choice(graph.ancestors(node_id))
        b = rng.choice(second)
        op = rng.choice(self.elementwise)
        new = graph.insert(op, [a, b])
        graph.redirect(node_id, new, skip=(new,))
        graph.remove(node_id)
        return f"{node_id}: replaced by {new} = {op}({a}, {b}) (A = {other})"


#: Operator classes by the name a search space uses for them.
OPERATORS: dict[str, type[Operator]] = {
    cls.name: cls for cls in (ChangeActivation, ChangeElementwise, InsertActivation,
                              RemoveNode, ReplaceWithAncestor, ReplaceWithCombination)}
