"""A canonical, name-free fingerprint of a cell's function.

Two genomes get the same fingerprint exactly when their graphs are isomorphic
after two function-preserving simplifications: `identity` nodes are dropped and
duplicate parameter-free nodes (same op, same inputs) are merged. Parametric
nodes (`linear`, `linear_a`, `scale`) are never merged: two of them with the
same inputs hold different weights, so sharing one is a different function from
using two.

The algorithm is NAS-Bench-101's iterated neighbour hashing (colour refinement
over in- and out-edges, with edge roles: argument position for non-commutative
ops, none for commutative ones), made exact by individualisation-refinement:
when refinement leaves several nodes indistinguishable, each is singled out in
turn and the smallest canonical serialisation wins. Nodes that are structural
twins (same inputs and same readers) are tried once. The result is therefore a
complete invariant: there is no known counterexample by construction, and the
tests pin the classic one for plain colour refinement (a 6-cycle vs two
3-cycles) to prove it is told apart.
"""

from __future__ import annotations

import hashlib

from archsearch.genome.ops import OPS
from archsearch.genome.spec import INPUT, Genome

__all__ = ["fingerprint", "canonical_form"]

_PARAM_DEFAULTS = {"bias": 0.0}


def _label(op: str, params: dict) -> str:
    spec = OPS[op]
    values = {k: float(params.get(k, _PARAM_DEFAULTS.get(k, 0.0))) for k in spec.params}
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
        if node.op == "identity":
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


def _ranks(keys: dict) -> dict:
    order = {k: r for r, k in enumerate(sorted(set(keys.values())))}
    return {v: order[k] for v, k in keys.items()}


def canonical_form(genome: Genome) -> str:
    """Returns the canonical serialisation whose hash is the fingerprint."""
    labels, in_edges, out_slot = _simplified(genome)
    out_edges: dict[str, list[tuple[str, str]]] = {v: [] for v in labels}
    for v, edges in in_edges.items():
        for role, src in edges:
            out_edges[src].append((role, v))

    def refine(colors: dict) -> dict:
        while True:
            new = _ranks({v: (colors[v],
                              tuple(sorted((r, colors[u]) for r, u in in_edges[v])),
                              tuple(sorted((r, colors[w]) for r, w in out_edges[v])))
                          for v in colors})
            if len(set(new.values())) == len(set(colors.values())):
                return new
            colors = new

    def serialise(colors: dict) -> str:
        rows = []
        for v in sorted(colors, key=colors.get):
            args = sorted((r, colors[u]) for r, u in in_edges[v])
            rows.append(labels[v] + "[" + ",".join(f"{r}:{c}" for r, c in args) + "]")
        return f"out=next{out_slot};" + ";".join(rows)

    def search(colors: dict) -> str:
        colors = refine(colors)
        cells: dict[int, list[str]] = {}
        for v, c in colors.items():
            cells.setdefault(c, []).append(v)
        ties = [members for _, members in sorted(cells.items()) if len(members) > 1]
        if not ties:
            return serialise(colors)
        tried, best = set(), None
        for v in sorted(ties[0]):
            twin_key = (tuple(sorted(in_edges[v])), tuple(sorted(out_edges[v])))
            if twin_key in tried:
                continue
            tried.add(twin_key)
            form = search(_ranks({u: (c, u != v) for u, c in colors.items()}))
            best = form if best is None else min(best, form)
        return best

    # Start from bottom-up and top-down Merkle hashes (both isomorphism
    # invariants), so refinement converges in a few passes even on long chains.
    order = list(labels)  # inputs, then nodes in topological order
    down: dict[str, str] = {}
    for v in order:
        args = [(r, down[u]) for r, u in in_edges[v]]
        down[v] = _digest(labels[v], sorted(args) if any(r == "*" for r, _ in args) else args)
    up: dict[str, str] = {}
    for v in reversed(order):
        up[v] = _digest(labels[v], sorted((r, up[w]) for r, w in out_edges[v]))
    return search(_ranks({v: (labels[v], down[v], up[v]) for v in order}))


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
