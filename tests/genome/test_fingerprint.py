"""The canonical fingerprint: invariant to names and commutative order, exact otherwise."""

import itertools
import random
import re
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archsearch import Genome, GenomeBuilder, Node
from archsearch.genome import zoo
from archsearch.genome.fingerprint import canonical_form, fingerprint
from archsearch.genome.ops import OPS

NAMES = zoo.names()
PERMUTATIONS = 200


def transform(g, rng, rename=True, shuffle=True, swap=True):
    """A copy of `g` with node ids renamed, nodes reordered, commutative inputs permuted."""
    ids = [n.id for n in g.nodes]
    # Random new names whose sort order is unrelated to the old one.
    fresh = [f"{rng.choice('abcdefgqrst')}{k}" for k in rng.sample(range(100_000), len(ids))]
    mapping = dict(zip(ids, fresh, strict=True)) if rename else {}

    def ref(name):
        return mapping.get(name, name)

    nodes = []
    for node in g.nodes:
        inputs = [ref(r) for r in node.inputs]
        if swap and OPS[node.op].commutative:
            rng.shuffle(inputs)
        nodes.append(Node(ref(node.id), node.op, tuple(inputs), node.params))
    if shuffle:
        rng.shuffle(nodes)
    next_state = {s: ref(r) for s, r in zip(g.states, g.next_state, strict=True)}
    return Genome(nodes, next_state, g.states, g.output)


def test_fingerprint_is_32_hex_digits_and_deterministic():
    fp = zoo.get("lstm").fingerprint()
    assert re.fullmatch(r"[0-9a-f]{32}", fp)
    assert fp == fingerprint(zoo.get("lstm")) == zoo.get("lstm").fingerprint()


@pytest.mark.parametrize("name", NAMES)
def test_fingerprint_is_invariant_to_renaming_reordering_and_commutative_swaps(name):
    g = zoo.get(name)
    expected = g.fingerprint()
    rng = random.Random(f"fingerprint-{name}")
    changed = 0
    for _ in range(PERMUTATIONS):
        copy = transform(g, rng)
        changed += [n.id for n in copy.nodes] != [n.id for n in g.nodes]
        assert copy.fingerprint() == expected
    assert changed == PERMUTATIONS  # every copy really was renamed
    # Each transformation alone, too.
    for kind in ("rename", "shuffle", "swap"):
        only = {k: k == kind for k in ("rename", "shuffle", "swap")}
        for _ in range(5):
            assert transform(g, rng, **only).fingerprint() == expected


def test_every_commutative_swap_of_the_lstm_keeps_the_fingerprint():
    g = zoo.get("lstm_b")
    swappable = [n for n in g.nodes if OPS[n.op].commutative and len(n.inputs) == 2]
    assert len(swappable) >= 5
    for flips in itertools.product((False, True), repeat=len(swappable)):
        flip = {n.id for n, f in zip(swappable, flips, strict=True) if f}
        nodes = [Node(n.id, n.op, n.inputs[::-1] if n.id in flip else n.inputs, n.params)
                 for n in g.nodes]
        assert Genome(nodes, {"h": "h_new", "c": "c_new"}, g.states).fingerprint() == \
            g.fingerprint()


def _sub_cell(reverse):
    b = GenomeBuilder(("h",))
    a = b.linear("x", "h", name="a")
    d = b.sub("h", a) if reverse else b.sub(a, "h")
    return b.build({"h": b.tanh(d)})


def test_swapping_the_inputs_of_sub_changes_the_fingerprint():
    assert _sub_cell(False).fingerprint() != _sub_cell(True).fingerprint()
    # ... while renaming it does not.
    assert transform(_sub_cell(True), random.Random(0)).fingerprint() == \
        _sub_cell(True).fingerprint()


def test_zoo_cells_are_pairwise_distinct_except_lstm_and_np():
    prints = {name: zoo.get(name).fingerprint() for name in NAMES}
    equal = {(a, b) for a, b in itertools.combinations(NAMES, 2) if prints[a] == prints[b]}
    # Greff's NP ("no peepholes") variant is the standard LSTM: the same function.
    assert equal == {("lstm", "np")}
    assert zoo.get("lstm") == zoo.get("np")  # even node for node


def test_bias_init_is_part_of_the_identity():
    assert zoo.get("lstm").fingerprint() != zoo.get("lstm_b").fingerprint()

    def cell(bias):
        b = GenomeBuilder(("h",))
        return b.build({"h": b.tanh(b.linear("x", "h", bias=bias))})

    assert cell(1.0).fingerprint() != cell(2.0).fingerprint()
    assert cell(1.0).fingerprint() != cell(0.0).fingerprint()
    explicit_zero = Genome([Node("z", "linear", ("x", "h"), {"bias": 0.0}),
                            Node("t", "tanh", ("z",))], {"h": "t"})
    assert explicit_zero.fingerprint() == cell(0.0).fingerprint()


def test_linear_a_coefficient_is_part_of_the_identity():
    def cell(a):
        b = GenomeBuilder(("h",))
        return b.build({"h": b.tanh(b.add(b.linear("x"), b.linear_a(a, "h")))})

    assert cell(0.5).fingerprint() != cell(0.9).fingerprint()
    assert cell(0.5).fingerprint() == cell(0.5).fingerprint()


def test_output_slot_is_part_of_the_identity():
    lstm = zoo.get("lstm")
    out_c = Genome(lstm.nodes, {"h": "h_new", "c": "c_new"}, ("h", "c"), output="c")
    assert out_c.fingerprint() != lstm.fingerprint()


def _gated_memory(shared_gate):
    """An LSTM-like cell c' = f*c + f2*g, f2 being f itself or an identical second gate."""
    b = GenomeBuilder(("h", "c"))
    f = b.sigmoid(b.linear("x", "h", name="f_pre"), name="f")
    f2 = f if shared_gate else b.sigmoid(b.linear("x", "h", name="f2_pre"), name="f2")
    g = b.tanh(b.linear("x", "h", name="g_pre"), name="g")
    c_new = b.add(b.mul(f, "c"), b.mul(f2, g), name="c_new")
    return b.build({"h": b.tanh(c_new), "c": c_new})


def test_sharing_a_parametric_node_is_a_different_function():
    shared, separate = _gated_memory(True), _gated_memory(False)
    assert len(separate.nodes) == len(shared.nodes) + 2
    assert shared.fingerprint() != separate.fingerprint()


def test_duplicate_parameter_free_nodes_are_merged():
    # Two sigmoids of one linear node compute the same value: merged.
    b = GenomeBuilder(("h", "c"))
    pre = b.linear("x", "h", name="f_pre")
    f, f2 = b.sigmoid(pre, name="f"), b.sigmoid(pre, name="f2")
    g = b.tanh(b.linear("x", "h", name="g_pre"), name="g")
    c_new = b.add(b.mul(f, "c"), b.mul(f2, g), name="c_new")
    two_sigmoids = b.build({"h": b.tanh(c_new), "c": c_new})
    assert two_sigmoids.fingerprint() == _gated_memory(True).fingerprint()

    # Two separate tanh(c) nodes == one shared tanh(c).
    def cell(shared):
        b = GenomeBuilder(("h", "c"))
        t1 = b.tanh("c", name="t1")
        t2 = t1 if shared else b.tanh("c", name="t2")
        g = b.sigmoid(b.linear("x", "h", name="g_pre"))
        return b.build({"h": b.add(t1, b.mul(g, t2)), "c": b.linear("x", "c")})

    assert len(cell(False).nodes) == len(cell(True).nodes) + 1
    assert cell(False).fingerprint() == cell(True).fingerprint()


def test_identity_is_transparent():
    lstm = zoo.get("lstm")
    nodes = [Node(n.id, n.op, tuple("o_id" if r == "o" else r for r in n.inputs), n.params)
             for n in lstm.nodes]
    nodes += [Node("o_id", "identity", ("o",)), Node("out1", "identity", ("h_new",)),
              Node("out2", "identity", ("out1",))]
    with_identities = Genome(nodes, {"h": "out2", "c": "c_new"}, ("h", "c"))
    assert len(with_identities.nodes) == len(lstm.nodes) + 3
    assert with_identities.fingerprint() == lstm.fingerprint()
    # An identity of an input is that input.
    b = GenomeBuilder(("h",))
    via_identity = b.build({"h": b.tanh(b.linear("x", b.identity("h")))})
    b = GenomeBuilder(("h",))
    assert via_identity.fingerprint() == b.build({"h": b.tanh(b.linear("x", "h"))}).fingerprint()


@pytest.mark.parametrize("name", NAMES)
def test_changing_one_activation_or_bias_changes_the_fingerprint(name):
    g = zoo.get(name)
    fp = g.fingerprint()
    next_state = dict(zip(g.states, g.next_state, strict=True))
    variants = 0
    for k, node in enumerate(g.nodes):
        replacements = []
        if node.op in ("tanh", "sigmoid", "relu"):
            replacements += [Node(node.id, op, node.inputs) for op in ("tanh", "sigmoid", "relu")
                             if op != node.op]
        if node.op == "linear":
            replacements.append(Node(node.id, "linear", node.inputs,
                                     {"bias": node.param("bias") + 0.5}))
        for new in replacements:
            other = Genome(g.nodes[:k] + (new,) + g.nodes[k + 1:], next_state, g.states,
                           g.output)
            assert other.fingerprint() != fp, f"{name}: changing {node.id} kept the print"
            variants += 1
    assert variants > 0


# --- the classic counterexample of plain colour refinement ---------------------------

SIX_CYCLE = [(1, 2), (2, 3), (3, 4), (4, 5), (5, 6), (6, 1)]
TWO_TRIANGLES = [(1, 2), (2, 3), (3, 1), (4, 5), (5, 6), (6, 4)]


def _product_graph(pairs):
    """Six linear(x, h) nodes; the products of `pairs` summed symmetrically into h'."""
    b = GenomeBuilder(("h",))
    for k in range(1, 7):
        b.linear("x", "h", name=f"L{k}")
    products = [b.mul(f"L{i}", f"L{j}", name=f"P{i}{j}") for i, j in pairs]
    # One commutative six-input node reads every product the same way.
    return b.build({"h": b.tanh(b.linear(*products, name="s"), name="h_new")})


def _plain_colour_refinement(g):
    """1-WL colour histogram (NAS-Bench-101 style hashing), without individualisation."""
    colours = {"x": "input", **{s: f"state{k}" for k, s in enumerate(g.states)}}
    colours.update({n.id: n.op for n in g.nodes})
    readers = {v: [] for v in colours}
    for n in g.nodes:
        for r in n.inputs:
            readers[r].append(n.id)
    args = {v: [] for v in colours}
    args.update({n.id: list(n.inputs) for n in g.nodes})
    history = []
    for _ in range(len(colours)):
        signature = {v: repr((c, sorted(colours[u] for u in args[v]),
                              sorted(colours[w] for w in readers[v])))
                     for v, c in colours.items()}
        # Compress to short names that are the same across graphs (a shared palette).
        palette = {sig: f"c{hash(sig) & 0xFFFFFFFF:x}" for sig in set(signature.values())}
        colours = {v: palette[sig] for v, sig in signature.items()}
        history.append(sorted(colours.values()))
    return history


def test_six_cycle_versus_two_triangles_is_told_apart():
    cycle, triangles = _product_graph(SIX_CYCLE), _product_graph(TWO_TRIANGLES)
    # The pair is a real counterexample for plain colour refinement ...
    assert _plain_colour_refinement(cycle) == _plain_colour_refinement(triangles)
    # ... and the fingerprint still tells the two functions apart.
    assert cycle.fingerprint() != triangles.fingerprint()
    assert canonical_form(cycle) != canonical_form(triangles)


@pytest.mark.parametrize("pairs", [SIX_CYCLE, TWO_TRIANGLES], ids=["six-cycle", "triangles"])
def test_canonical_form_is_stable_under_renaming(pairs):
    g = _product_graph(pairs)
    form = canonical_form(g)
    rng = random.Random(6)
    for _ in range(8):
        assert canonical_form(transform(g, rng)) == form
    # Relabelling the L nodes (L_k -> L_k+1) gives the same graph built in another order.
    rotated = [((i % 6) + 1, (j % 6) + 1) for i, j in pairs]
    assert canonical_form(_product_graph(rotated)) == form


# --- random genomes: invariance beyond the zoo ---------------------------------------

_UNARY = ("tanh", "sigmoid", "relu", "one_minus", "scale", "identity")
_BINARY = ("add", "mul", "sub")


@st.composite
def random_genomes(draw):
    states = draw(st.sampled_from([("h",), ("h", "c")]))
    b = GenomeBuilder(states)
    values = ["x", *states]
    for _ in range(draw(st.integers(1, 14))):
        kind = draw(st.sampled_from(["linear", "unary", "binary"]))
        if kind == "linear":
            inputs = draw(st.lists(st.sampled_from(values), min_size=1, max_size=3,
                                   unique=True))
            bias = draw(st.sampled_from([0.0, 0.0, 1.0]))
            values.append(b.linear(*inputs, bias=bias))
        elif kind == "unary":
            values.append(getattr(b, draw(st.sampled_from(_UNARY)))(
                draw(st.sampled_from(values))))
        else:
            op = draw(st.sampled_from(_BINARY))
            values.append(getattr(b, op)(draw(st.sampled_from(values)),
                                         draw(st.sampled_from(values))))
    produced = values[1 + len(states):]
    next_state = {s: draw(st.sampled_from(produced)) for s in states}
    return b.build(next_state)


@settings(max_examples=50, deadline=None, database=None)
@given(random_genomes(), st.integers(0, 2**32))
def test_random_genomes_are_invariant_too(g, seed):
    rng = random.Random(seed)
    expected = canonical_form(g)
    for _ in range(3):
        assert canonical_form(transform(g, rng)) == expected


def test_the_whole_zoo_fingerprints_in_milliseconds():
    genomes = [zoo.get(name) for name in NAMES]
    start = time.perf_counter()
    for g in genomes:
        g.fingerprint()
    elapsed = time.perf_counter() - start
    assert elapsed < 2.0, f"fingerprinting the zoo took {elapsed:.2f}s"
