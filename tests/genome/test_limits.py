"""Every genome operation does bounded work: limits at construction, parse and search."""

import time

import pytest
from shapes import symmetric_branches

from archsearch import Genome, GenomeBuilder, GenomeError, Node, mutate
from archsearch.genome import limits
from archsearch.genome.canonical import CanonicalSearch


def _chain(n):
    nodes = [Node("n0", "linear", ("x", "h"))]
    nodes += [Node(f"n{i}", "tanh" if i % 2 else "sigmoid", (f"n{i - 1}",)) for i in range(1, n)]
    return nodes


def test_node_limit_is_inclusive_and_named():
    assert len(Genome(_chain(limits.MAX_NODES), {"h": f"n{limits.MAX_NODES - 1}"}).nodes) == \
        limits.MAX_NODES
    with pytest.raises(GenomeError, match="MAX_NODES") as info:
        Genome(_chain(limits.MAX_NODES + 1), {"h": "n0"})
    assert f"at most {limits.MAX_NODES}" in str(info.value)


def test_node_limit_does_not_consume_an_endless_iterator():
    def endless():
        k = 0
        while True:
            yield Node(f"n{k}", "linear", ("x",))
            k += 1

    with pytest.raises(GenomeError, match="MAX_NODES"):
        Genome(endless(), {"h": "n0"})


def test_input_limit():
    names = [f"t{i}" for i in range(limits.MAX_INPUTS)]
    Node("s", "linear", tuple(names))
    with pytest.raises(GenomeError, match="MAX_INPUTS"):
        Node("s", "linear", (*names, "extra"))


def test_state_limit():
    states = ["h", *(f"s{i}" for i in range(1, limits.MAX_STATES))]
    nodes = [Node("z", "linear", ("x", "h"))]
    Genome(nodes, dict.fromkeys(states, "z"), states)
    with pytest.raises(GenomeError, match="MAX_STATES"):
        Genome(nodes, dict.fromkeys([*states, "extra"], "z"), [*states, "extra"])


def test_name_and_text_limits():
    long_id = "n" * (limits.MAX_NAME_CHARS + 1)
    with pytest.raises(GenomeError, match="MAX_NAME_CHARS") as info:
        Node(long_id, "tanh", ("x",))
    assert len(str(info.value)) < 300  # the name itself is cut, not echoed in full
    nodes = [Node("z", "linear", ("x", "h"))]
    with pytest.raises(GenomeError, match="MAX_TEXT_CHARS"):
        Genome(nodes, {"h": "z"}, name="g" * (limits.MAX_TEXT_CHARS + 1))
    with pytest.raises(GenomeError, match="MAX_TEXT_CHARS"):
        Genome(nodes, {"h": "z"}, description=["not", "text"])


def test_json_size_and_depth_limits():
    ok = Genome([Node("z", "linear", ("x", "h"))], {"h": "z"}).to_json()
    padded = ok + " " * (limits.MAX_JSON_CHARS - len(ok))
    assert Genome.from_json(padded).nodes  # exactly at the limit: fine
    with pytest.raises(GenomeError, match="MAX_JSON_CHARS"):
        Genome.from_json(padded + " ")
    with pytest.raises(GenomeError, match="MAX_JSON_CHARS"):
        Genome.from_json((padded + " ").encode())
    deep = '{"nodes": ' + "[" * limits.MAX_JSON_DEPTH + "]" * limits.MAX_JSON_DEPTH + "}"
    with pytest.raises(GenomeError, match="MAX_JSON_DEPTH"):
        Genome.from_json(deep)


def test_canonical_search_budget_raises_a_genome_error():
    g = symmetric_branches(6)
    from archsearch.genome import fingerprint as module

    labels, in_edges, _ = module._simplified(g)
    out_edges = {v: [] for v in labels}
    for v, edges in in_edges.items():
        for role, src in edges:
            out_edges[src].append((role, v))
    search = CanonicalSearch(labels, in_edges, out_edges, "", budget=3)
    with pytest.raises(GenomeError, match="MAX_SEARCH_NODES"):
        search.run(dict.fromkeys(labels, 0))
    full = CanonicalSearch(labels, in_edges, out_edges, "")
    full.run(dict.fromkeys(labels, 0))
    assert 3 < full.visited < 100  # 6 symmetric branches: a handful of refinements


@pytest.mark.parametrize("k", [16, 64])
def test_symmetric_branches_use_few_refinements(k):
    g = symmetric_branches(k)
    from archsearch.genome import fingerprint as module

    calls = []
    original = module.CanonicalSearch

    class Counting(original):
        def run(self, colors):
            form = super().run(colors)
            calls.append(self.visited)
            return form

    module.CanonicalSearch = Counting
    try:
        g.fingerprint()
    finally:
        module.CanonicalSearch = original
    assert calls[0] <= 4 * k  # linear in k (the unpruned search: k! leaves)


def test_mutating_the_largest_genomes_is_bounded():
    b = GenomeBuilder(("h",))
    v = b.linear("x", "h")
    for i in range(limits.MAX_NODES - 2):
        v = b.tanh(v) if i % 2 else b.sigmoid(v)
    big = b.build({"h": b.linear("x", v)})
    assert len(big.nodes) == limits.MAX_NODES
    start = time.perf_counter()
    for seed in range(3):
        child = mutate(big, seed=seed)
        assert len(child.nodes) <= limits.MAX_NODES
    assert time.perf_counter() - start < 15.0


def test_equations_of_deep_chains_are_bounded():
    g = Genome(_chain(limits.MAX_NODES), {"h": f"n{limits.MAX_NODES - 1}"})
    text = g.equations()
    assert len(text) < 30 * limits.MAX_NODES
    assert text.count("sigmoid(") + text.count("tanh(") == limits.MAX_NODES - 1
