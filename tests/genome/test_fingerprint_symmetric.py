"""The canonical search stays fast on symmetric genomes and equals the exhaustive one."""

import random
import time

import pytest
from hypothesis import given, settings
from shapes import SHAPES, symmetric_branches
from test_fingerprint import random_genomes, transform

from archsearch import Genome, Node, mutate
from archsearch.genome.canonical import ranks
from archsearch.genome.fingerprint import _digest, _simplified, canonical_form


def exhaustive_form(genome):
    """The first algorithm (commit 60226f0): every tied vertex in turn, twins only pruned."""
    labels, in_edges, out_slot = _simplified(genome)
    out_edges = {v: [] for v in labels}
    for v, edges in in_edges.items():
        for role, src in edges:
            out_edges[src].append((role, v))

    def refine(colors):
        while True:
            new = ranks({v: (colors[v], tuple(sorted((r, colors[u]) for r, u in in_edges[v])),
                             tuple(sorted((r, colors[w]) for r, w in out_edges[v])))
                         for v in colors})
            if len(set(new.values())) == len(set(colors.values())):
                return new
            colors = new

    def serialise(colors):
        rows = []
        for v in sorted(colors, key=colors.get):
            args = sorted((r, colors[u]) for r, u in in_edges[v])
            rows.append(labels[v] + "[" + ",".join(f"{r}:{c}" for r, c in args) + "]")
        return f"out=next{out_slot};" + ";".join(rows)

    def search(colors):
        colors = refine(colors)
        cells = {}
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
            form = search(ranks({u: (c, u != v) for u, c in colors.items()}))
            best = form if best is None else min(best, form)
        return best

    order = list(labels)
    down = {}
    for v in order:
        args = [(r, down[u]) for r, u in in_edges[v]]
        down[v] = _digest(labels[v], sorted(args) if any(r == "*" for r, _ in args) else args)
    up = {}
    for v in reversed(order):
        up[v] = _digest(labels[v], sorted((r, up[w]) for r, w in out_edges[v]))
    return search(ranks({v: (labels[v], down[v], up[v]) for v in order}))


@settings(max_examples=60, deadline=None, database=None)
@given(random_genomes())
def test_pruned_search_equals_the_exhaustive_search(g):
    assert canonical_form(g) == exhaustive_form(g)


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_pruned_search_equals_the_exhaustive_search_on_small_symmetric_shapes(name):
    for k in (2, 3, 4, 5):
        g = SHAPES[name](k)
        assert canonical_form(g) == exhaustive_form(g), (name, k)


@pytest.mark.parametrize("k", [2, 3, 4, 8, 10, 16, 32, 48, 64])
def test_symmetric_branches_fingerprint_in_well_under_a_second(k):
    g = symmetric_branches(k)
    assert len(g.nodes) == 2 * k + 2
    start = time.perf_counter()
    fp = g.fingerprint()
    elapsed = time.perf_counter() - start
    assert elapsed < 1.0, f"{k} branches took {elapsed:.2f}s"
    assert transform(g, random.Random(k)).fingerprint() == fp


@pytest.mark.parametrize("name", sorted(SHAPES))
@pytest.mark.parametrize("k", [5, 24])
def test_symmetric_shapes_are_fast_and_invariant(name, k):
    g = SHAPES[name](k)
    start = time.perf_counter()
    form = canonical_form(g)
    elapsed = time.perf_counter() - start
    assert elapsed < 1.0, f"{name}({k}) took {elapsed:.2f}s"
    rng = random.Random(f"{name}{k}")
    for _ in range(3):
        assert canonical_form(transform(g, rng)) == form


def test_shapes_of_different_sizes_and_kinds_are_distinct():
    prints = {(name, k): SHAPES[name](k).fingerprint() for name in SHAPES for k in (3, 4, 9)}
    assert len(set(prints.values())) == len(prints)


def test_breaking_one_branch_of_a_symmetric_cell_changes_the_fingerprint():
    g = symmetric_branches(12)
    for op in ("sigmoid", "relu"):
        nodes = [Node(n.id, op if n.id == "t7" else n.op, n.inputs, n.params) for n in g.nodes]
        broken = Genome(nodes, {"h": "h_new"})
        assert broken.fingerprint() != g.fingerprint()
        assert transform(broken, random.Random(op)).fingerprint() == broken.fingerprint()


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_pruned_search_equals_the_exhaustive_search_on_mutated_symmetric_shapes(name):
    # Mutation breaks some symmetries and keeps others: partial automorphism groups.
    for k in (3, 4):
        for seed in range(4):
            g = mutate(SHAPES[name](k), seed=seed)
            assert canonical_form(g) == exhaustive_form(g), (name, k, seed)
