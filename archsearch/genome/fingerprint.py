"""A canonical, name-free fingerprint of a cell's function.

Two genomes get the same fingerprint exactly when their graphs are isomorphic
after two function-preserving simplifications: `identity` nodes are dropped and
duplicate parameter-free nodes (same op, same inputs) are merged. Parametric
nodes (`linear`, `linear_a`, `scale`) are never merged: two of them with the
same inputs hold different weights, so sharing one is a different function from
using two.

The algorithm is NAS-Bench-101's iterated neighbour hashing (colour refinement
over in- and out-edges, with edge roles: argument position for non-commutative
ops, none for commutative ones), made exact by individualisation-refinement
(`archsearch.genome.canonical`): when refinement leaves several nodes
indistinguishable, each is singled out in turn and the smallest canonical
serialisation wins, with automorphism pruning so that k interchangeable
branches cost O(k^2) refinements instead of k!. The pruning never changes the
result: fingerprints equal those of the first, unpruned algorithm (the tests
pin the zoo, mutants and small symmetric shapes). The tests also pin the
classic counterexample for plain colour refinement (a 6-cycle vs two
3-cycles) to prove it is told apart.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from archsearch.genome.canonical import CanonicalSearch
from archsearch.genome.canonical import ranks as _ranks
from archsearch.genome.ops import INPUT, OPS

if TYPE_CHECKING:
    from archsearch.genome.spec import Genome

__all__ = ["fingerprint", "canonical_form"]

_PARAM_DEFAULTS = {"bias": 0.0}


#: Parameters left out of a label while unset (0), so adding one kept every older fingerprint.
_OPTIONAL = ("chrono",)


def _label(op: str, params: dict) -> str:
    spec = OPS[op]
    values = {k: float(params.get(k, _PARAM_DEFAULTS.get(k, 0.0))) for k in spec.params}
    values = {k: v for k, v in values.items() if k not in _OPTIONAL or v != 0.0}
    return op + "(" + ",".join(f"{k}={v!r}" for k, v in sorted(values.items())) + ")"


def _simplified(genome: Genome):
    """Vertices (name -> label), in-edges (name -> [(role, src)]), after simplification."""
    alias: dict[str, str] = {}
    labels: dict[str, str] = {INPUT: "input"}
    for k, s in enumerate(genome.states):
        labels[s] = f"state{k}"
    in_edges: dict[str, list[tuple[str, str]]] = {v: [] for v in labels}
    seen: dict[tuple, str] = {}
    for node in genome.nodes:
        inputs = [alias.get(r, r) for r in node.inputs]
        spec = OPS[node.op]
        if spec.keras == "pass":  # the identity: its input under another name
            alias[node.id] = inputs[0]
            continue
        if not spec.parametric:
            key = (node.op, tuple(sorted(inputs)) if spec.commutative else tuple(inputs))
            if key in seen:
                alias[node.id] = seen[key]
                continue
            seen[key] = node.id
        labels[node.id] = _label(node.op, node.params)
        in_edges[node.id] = [("*" if spec.commutative else str(k), r)
                             for k, r in enumerate(inputs)]
    roles: dict[str, list[str]] = {}
    for k, ref in enumerate(genome.next_state):
        roles.setdefault(alias.get(ref, ref), []).append(f"next{k}")
    out_slot = genome.states.index(genome.output)
    for v, rs in roles.items():
        labels[v] += "->" + "+".join(sorted(rs))
    return labels, in_edges, out_slot


def canonical_form(genome: Genome) -> str:
    """Returns the canonical serialisation whose hash is the fingerprint."""
    labels, in_edges, out_slot = _simplified(genome)
    # Start from bottom-up and top-down Merkle hashes (both isomorphism
    # invariants), so refinement converges in a few passes even on long chains.
    order = list(labels)  # inputs, then nodes in topological order
    out_edges: dict[str, list[tuple[str, str]]] = {v: [] for v in labels}
    for v, edges in in_edges.items():
        for role, src in edges:
            out_edges[src].append((role, v))
    down: dict[str, str] = {}
    for v in order:
        args = [(r, down[u]) for r, u in in_edges[v]]
        down[v] = _digest(labels[v], sorted(args) if any(r == "*" for r, _ in args) else args)
    up: dict[str, str] = {}
    for v in reversed(order):
        up[v] = _digest(labels[v], sorted((r, up[w]) for r, w in out_edges[v]))
    search = CanonicalSearch(labels, in_edges, out_edges, f"out=next{out_slot};")
    return search.run(_ranks({v: (labels[v], down[v], up[v]) for v in order}))


def _digest(label: str, parts) -> str:
    return hashlib.sha1(repr((label, parts)).encode()).hexdigest()


def fingerprint(genome: Genome) -> str:
    """Returns a 32-hex-digit hash of `canonical_form(genome)`.

    Example:
        >>> from archsearch.genome import zoo
        >>> zoo.get("lstm").fingerprint() == zoo.get("np").fingerprint()
        True
        >>> zoo.get("lstm").fingerprint() == zoo.get("lstm_b").fingerprint()
        False
    """
    return hashlib.sha256(canonical_form(genome).encode()).hexdigest()[:32]
