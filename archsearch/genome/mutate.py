"""`mutate`: the paper's mutation of a cell, deterministic by seed.

Jozefowicz et al. 2015 draw p ~ U[0, 1] and transform every node of the cell
independently with probability p (most mutations are small, a few large),
each time with one of six transformations (`archsearch.genome.operators`).
Here an attempt is exactly that, on a `MutableGraph` copy; when p is so small
that no node was picked, one node is transformed anyway, so that no attempt
is wasted. The attempt is kept if the result is a valid genome whose
fingerprint differs from the parent's and that is still a recurrent cell with
weights (it reads `x`, some next state depends on a previous state, it has a
learned node), and optionally needs no square input the parent did not need
and is within a node budget; otherwise the next attempt draws a new p from
the same RNG. Everything is drawn from one `random.Random(seed)`, so a seed
always gives the same child.
"""

from __future__ import annotations

import operator
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from archsearch.genome.errors import GenomeError
from archsearch.genome.graph import MutableGraph
from archsearch.genome.operators import (
    DEFAULT_ACTIVATIONS,
    DEFAULT_ELEMENTWISE,
    OPERATORS,
    Operator,
)
from archsearch.genome.ops import OPS
from archsearch.genome.spec import INPUT, Genome

__all__ = ["Mutator", "MutationResult", "mutate"]

DEFAULT_MAX_ATTEMPTS = 100


@dataclass(frozen=True)
class MutationResult:
    """A child and how it was made.

    Attributes:
        child: The mutated, validated and pruned genome.
        seed: The seed it was drawn with.
        attempts: Attempts used (1 when the first one was kept).
        p: The per-node transformation probability of the kept attempt.
        fired: `(operator name, what it did)` for each transformation applied.
        rejected: Why each earlier attempt was thrown away.
    """

    child: Genome
    seed: int
    attempts: int
    p: float
    fired: tuple[tuple[str, str], ...]
    rejected: tuple[str, ...]


class Mutator:
    """A configured mutation: operators, their weights, activation and op sets.

    Args:
        activations: The activation set of transformations 1 and 3; strings
            `tanh`, `sigmoid`, `relu`, `identity` or `linear(a)`.
        elementwise: The elementwise set of transformations 2 and 6 (subset of
            `mul`, `add`, `sub`).
        operators: `None` for the six operators with equal weights; a mapping
            operator name -> weight (names from `OPERATORS`; missing ones are
            off); or a list of `Operator` instances (their own sets and weights).
        max_attempts: Attempts before giving up with `GenomeError`.
        allow_square_input: If False, reject children that use the raw input
            elementwise (needing input width == units) unless the parent did.
        max_nodes: If set, reject children with more nodes.

    Example:
        >>> from archsearch.genome import zoo
        >>> mutator = Mutator(operators={"change_activation": 1, "insert_activation": 1})
        >>> result = mutator.run(zoo.get("gru"), seed=3)
        >>> result.child.fingerprint() != zoo.get("gru").fingerprint()
        True
    """

    def __init__(self, *, activations: Iterable = DEFAULT_ACTIVATIONS,
                 elementwise: Iterable = DEFAULT_ELEMENTWISE,
                 operators: Mapping[str, float] | Iterable[Operator] | None = None,
                 max_attempts: int = DEFAULT_MAX_ATTEMPTS, allow_square_input: bool = True,
                 max_nodes: int | None = None):
        sets = {"activations": tuple(activations) if not isinstance(activations, str)
                else (activations,),
                "elementwise": tuple(elementwise) if not isinstance(elementwise, str)
                else (elementwise,)}
        if operators is None:
            operators = {name: 1.0 for name in OPERATORS}
        if isinstance(operators, Mapping):
            built = []
            for name, weight in operators.items():
                if name not in OPERATORS:
                    raise GenomeError(f"unknown mutation operator {name!r}; expected one of "
                                      f"{list(OPERATORS)}")
                built.append(OPERATORS[name](weight, **sets))
            operators = built
        self.operators = tuple(operators)
        for op in self.operators:
            if not isinstance(op, Operator):
                raise GenomeError(f"expected Operator instances or a mapping name -> weight. "
                                  f"Received: {op!r}")
        if not any(op.weight > 0 for op in self.operators):
            raise GenomeError("at least one mutation operator needs a weight > 0")
        if isinstance(max_attempts, bool) or not isinstance(max_attempts, int) or \
                max_attempts < 1:
            raise GenomeError(f"max_attempts must be a positive integer. Received: "
                              f"max_attempts={max_attempts!r}")
        if max_nodes is not None and (not isinstance(max_nodes, int) or max_nodes < 1):
            raise GenomeError(f"max_nodes must be a positive integer or None. Received: "
                              f"max_nodes={max_nodes!r}")
        self.max_attempts = max_attempts
        self.allow_square_input = bool(allow_square_input)
        self.max_nodes = max_nodes

    # -- one attempt ------------------------------------------------------------
    def _transform(self, graph: MutableGraph, node_id: str, rng: random.Random,
                   fired: list) -> None:
        usable = [op for op in self.operators if op.weight > 0 and op.applies(graph, node_id)]
        if not usable:
            return
        op = rng.choices(usable, weights=[o.weight for o in usable])[0]
        what = op.apply(graph, node_id, rng)
        if what is not None:
            fired.append((op.name, what))

    def attempt(self, genome: Genome, rng: random.Random):
        """One raw attempt: returns `(graph, p, fired)` with no checks on the result."""
        p = rng.random()
        graph = MutableGraph(genome)
        fired: list[tuple[str, str]] = []
        order = list(graph.nodes)
        for node_id in order:
            if rng.random() < p and node_id in graph.nodes:
                self._transform(graph, node_id, rng, fired)
        if not fired and order:
            self._transform(graph, rng.choice(order), rng, fired)
        return graph, p, fired

    def _rejection(self, parent: Genome, parent_print: str, child: Genome) -> str | None:
        if child.fingerprint() == parent_print:
            return "same fingerprint as the parent"
        if INPUT not in child.next_state and not any(INPUT in n.inputs for n in child.nodes):
            return "ignores the input x"
        recurrent = set(child.states)
        for node in child.nodes:
            if any(ref in recurrent for ref in node.inputs):
                recurrent.add(node.id)
        if not any(ref in recurrent for ref in child.next_state):
            return "no next state depends on a previous state (not recurrent)"
        if not any(OPS[n.op].parametric for n in child.nodes):
            return "has no learned weights"
        if not self.allow_square_input and child.needs_square_input and \
                not parent.needs_square_input:
            return f"needs a square input ({child.square_input_reasons[0]})"
        if self.max_nodes is not None and len(child.nodes) > self.max_nodes:
            return f"{len(child.nodes)} nodes, over max_nodes={self.max_nodes}"
        return None

    # -- the public entry points ------------------------------------------------
    def run(self, genome: Genome, seed: int) -> MutationResult:
        """Mutates `genome` with `seed`; returns the child and how it was made.

        Raises:
            GenomeError: no attempt gave a valid child that differs from the parent.
        """
        if not isinstance(genome, Genome):
            raise GenomeError(f"expected a Genome to mutate. Received: {genome!r}")
        try:
            seed = operator.index(seed)
        except TypeError:
            raise GenomeError(f"seed must be an integer. Received: seed={seed!r}") from None
        rng = random.Random(seed)
        parent_print = genome.fingerprint()
        label = genome.name or f"cell {parent_print[:12]}"
        rejected: list[str] = []
        for attempt in range(1, self.max_attempts + 1):
            graph, p, fired = self.attempt(genome, rng)
            try:
                child = graph.to_genome(description=f"mutant of {label} (seed {seed})")
            except GenomeError as err:
                rejected.append(f"invalid: {err}")
                continue
            reason = self._rejection(genome, parent_print, child)
            if reason is not None:
                rejected.append(reason)
                continue
            return MutationResult(child, seed, attempt, p, tuple(fired), tuple(rejected))
        raise GenomeError(f"could not mutate {label} with seed {seed}: no valid child that "
                          f"differs from the parent in {self.max_attempts} attempts (last "
                          f"rejection: {rejected[-1]})")

    def __call__(self, genome: Genome, seed: int) -> Genome:
        """Returns the child of `genome` for `seed` (see `run`)."""
        return self.run(genome, seed).child


def mutate(genome: Genome, seed: int, *, activations: Iterable = DEFAULT_ACTIVATIONS,
           elementwise: Iterable = DEFAULT_ELEMENTWISE,
           operators: Mapping[str, float] | Iterable[Operator] | None = None,
           max_attempts: int = DEFAULT_MAX_ATTEMPTS, allow_square_input: bool = True,
           max_nodes: int | None = None) -> Genome:
    """Returns a mutant of `genome`, the same one for the same seed.

    The paper's scheme: p ~ U[0, 1], then each node is transformed with
    probability p by one of the operators that apply to it (weighted). The
    child is a valid, pruned genome with the parent's state slots and a
    different fingerprint; it reads the input `x`, is recurrent and has weights.

    Args:
        genome: The parent.
        seed: Seed of every random choice.
        activations: Activation set (default: the paper's tanh, sigmoid, relu,
            linear(0), linear(1), linear(0.9), linear(1.1)).
        elementwise: Elementwise set (default: mul, add, sub).
        operators: Operators and weights (see `Mutator`); default: all six, equal.
        max_attempts: Attempts before giving up.
        allow_square_input: If False, children may not newly need input width == units.
        max_nodes: Reject children with more nodes than this.

    Returns:
        The child `Genome` (unnamed; its description names the parent and seed).

    Raises:
        GenomeError: a bad argument, or no valid different child within `max_attempts`.

    Example:
        >>> from archsearch.genome import zoo
        >>> child = mutate(zoo.get("lstm"), seed=0)
        >>> child == mutate(zoo.get("lstm"), seed=0)
        True
        >>> child.states
        ('h', 'c')
    """
    return Mutator(activations=activations, elementwise=elementwise, operators=operators,
                   max_attempts=max_attempts, allow_square_input=allow_square_input,
                   max_nodes=max_nodes).run(genome, seed).child
