"""Node and Genome validation, pruning and topological order."""

import math

import pytest

import archsearch
from archsearch import Genome, GenomeError, Node
from archsearch.genome import zoo


def _rnn_nodes():
    return [Node("z", "linear", ("x", "h")), Node("h_new", "tanh", ("z",))]


def test_genome_error_is_the_public_value_error():
    assert archsearch.GenomeError is GenomeError
    assert issubclass(GenomeError, ValueError)


def test_minimal_genome():
    g = Genome(_rnn_nodes(), {"h": "h_new"})
    assert g.states == ("h",)
    assert g.output == "h"
    assert g.inputs == ("x", "h")
    assert [n.id for n in g.nodes] == ["z", "h_new"]
    assert g.next_of("h") == "h_new"
    assert g.node("z").op == "linear"
    assert g.consumers() == {"x": ["z"], "h": ["z"], "z": ["h_new"], "h_new": []}
    assert g.pruned == ()


def test_node_params_are_floats_sorted_and_defaulted():
    node = Node("a", "linear_a", ["h"], {"bias": 2, "a": 0.5})
    assert node.inputs == ("h",)  # a list is stored as a tuple
    assert list(node.params) == ["a", "bias"]
    assert all(type(v) is float for v in node.params.values())
    assert node.param("bias") == 2.0
    assert Node("b", "linear", ("x",)).param("bias") == 0.0
    assert Node("b", "linear", ("x",)).param("bias", 3.0) == 3.0
    assert hash(node) == hash(Node("a", "linear_a", ("h",), {"a": 0.5, "bias": 2.0}))


def test_node_lookup_of_unknown_id_is_a_genome_error():
    g = Genome(_rnn_nodes(), {"h": "h_new"})
    with pytest.raises(GenomeError, match="'nope'"):
        g.node("nope")


def test_equality_ignores_name_but_not_structure():
    g = Genome(_rnn_nodes(), {"h": "h_new"})
    named = g.with_name("elman", "a description")
    assert named == g and hash(named) == hash(g)
    assert named.name == "elman" and named.description == "a description"
    other = Genome([Node("z", "linear", ("x", "h"), {"bias": 1.0}),
                    Node("h_new", "tanh", ("z",))], {"h": "h_new"})
    assert other != g
    assert g != "not a genome"
    assert "elman" in repr(named) and g.fingerprint()[:12] in repr(named)


# --- bad genomes: GenomeError naming the node or field -----------------------------


@pytest.mark.parametrize(
    ("build", "names"),
    [
        pytest.param(lambda: Genome([Node("a", "tanh", ("b",)), Node("b", "tanh", ("a",))],
                                    {"h": "a"}), ["'a'", "cycle"], id="cycle"),
        pytest.param(lambda: Genome([Node("a", "tanh", ("a",))], {"h": "a"}),
                     ["'a'", "cycle"], id="self-loop"),
        pytest.param(lambda: Genome([Node("a", "tanh", ("zz",))], {"h": "a"}),
                     ["'a'", "'zz'"], id="dangling-input"),
        pytest.param(lambda: Genome(_rnn_nodes(), {"h": "ghost"}),
                     ["'h'", "'ghost'"], id="dangling-next"),
        pytest.param(lambda: Node("a", "softmax", ("x",)), ["'a'", "'softmax'"],
                     id="unknown-op"),
        pytest.param(lambda: Genome(_rnn_nodes(), {"h": "h_new"}, states=("h", "c")),
                     ["'c'", "never produced"], id="missing-state-output"),
        pytest.param(lambda: Genome(_rnn_nodes(), {"h": "h_new", "q": "z"}),
                     ["'q'", "not a state slot"], id="next-of-unknown-slot"),
        pytest.param(lambda: Node("a", "add", ("x",)), ["'a'", "'add'", "2", "got 1"],
                     id="arity-too-few"),
        pytest.param(lambda: Node("a", "tanh", ("x", "h")), ["'a'", "'tanh'", "got 2"],
                     id="arity-too-many"),
        pytest.param(lambda: Node("a", "linear", ()), ["'a'", "at least 1"],
                     id="arity-linear-empty"),
        pytest.param(lambda: Node("a", "linear", ("x", "h", "x")), ["'a'", "twice"],
                     id="linear-input-twice"),
        pytest.param(lambda: Node("a", "linear", ("x",), {"gain": 1.0}), ["'a'", "'gain'"],
                     id="unknown-param"),
        pytest.param(lambda: Node("a", "tanh", ("x",), {"bias": 1.0}), ["'a'", "'bias'"],
                     id="param-on-parameter-free-op"),
        pytest.param(lambda: Node("a", "linear_a", ("h",)), ["'a'", "'a'"],
                     id="missing-required-param"),
        pytest.param(lambda: Node("a", "linear", ("x",), {"bias": math.nan}),
                     ["'a'", "'bias'", "finite"], id="nan-param"),
        pytest.param(lambda: Node("a", "linear", ("x",), {"bias": math.inf}),
                     ["'a'", "'bias'", "finite"], id="inf-param"),
        pytest.param(lambda: Node("a", "linear", ("x",), {"bias": 10**400}),
                     ["'a'", "'bias'", "finite"], id="int-too-large-for-float"),
        pytest.param(lambda: Node("a", "linear", ("x",), {"bias": True}),
                     ["'a'", "'bias'"], id="bool-param"),
        pytest.param(lambda: Node("a", "linear", ("x",), {"bias": "1.0"}),
                     ["'a'", "'bias'"], id="string-param"),
        pytest.param(lambda: Node("a", "linear", ("x",), [("bias", 1.0)]),
                     ["'a'", "params"], id="params-not-a-mapping"),
        pytest.param(lambda: Node("a", "tanh", "x"), ["'a'", "inputs"], id="inputs-a-string"),
        pytest.param(lambda: Node("a", "tanh", 3), ["'a'", "inputs"], id="inputs-not-iterable"),
        pytest.param(lambda: Node("a", "tanh", ("x y",)), ["'a'", "'x y'"],
                     id="input-not-identifier"),
        pytest.param(lambda: Node("1a", "tanh", ("x",)), ["node id", "'1a'"],
                     id="id-not-identifier"),
        pytest.param(lambda: Node(7, "tanh", ("x",)), ["node id", "7"], id="id-not-string"),
        pytest.param(lambda: Genome([Node("a", "tanh", ("x",)), Node("a", "relu", ("x",))],
                                    {"h": "a"}), ["'a'", "twice"], id="duplicate-id"),
        pytest.param(lambda: Genome([Node("h", "tanh", ("x",))], {"h": "h"}),
                     ["'h'", "clashes"], id="id-is-a-state"),
        pytest.param(lambda: Genome([Node("x", "tanh", ("h",))], {"h": "x"}),
                     ["'x'", "clashes"], id="id-is-the-input"),
        pytest.param(lambda: Genome(_rnn_nodes(), {"h": "h_new"}, states=()),
                     ["state slot"], id="no-states"),
        pytest.param(lambda: Genome(_rnn_nodes(), {"h": "h_new", "x": "z"}, states=("h", "x")),
                     ["'x'"], id="state-named-x"),
        pytest.param(lambda: Genome(_rnn_nodes(), {"h": "h_new"}, states=("h", "h")),
                     ["unique", "'h'"], id="duplicate-states"),
        pytest.param(lambda: Genome(_rnn_nodes(), {"h": "h_new"}, output="c"),
                     ["output", "'c'"], id="output-not-a-slot"),
        pytest.param(lambda: Genome(_rnn_nodes(), ["h_new"]), ["next_state"],
                     id="next-not-a-mapping"),
        pytest.param(lambda: Genome([("a", "tanh", ("x",))], {"h": "a"}), ["Node"],
                     id="node-not-a-node"),
    ],
)
def test_bad_genome_raises_genome_error_naming_the_culprit(build, names):
    with pytest.raises(GenomeError) as info:
        build()
    message = str(info.value)
    for name in names:
        assert name in message, f"{name!r} not in {message!r}"


def test_cycle_through_several_nodes_names_a_node_on_it():
    nodes = [Node("ok", "linear", ("x", "h")), Node("a", "add", ("ok", "c3")),
             Node("b", "tanh", ("a",)), Node("c3", "sigmoid", ("b",))]
    with pytest.raises(GenomeError, match="cycle") as info:
        Genome(nodes, {"h": "b"})
    assert any(f"'{n}'" in str(info.value) for n in ("a", "b", "c3"))
    assert "'ok'" not in str(info.value).split("cycle")[0]


def test_too_many_nodes_is_rejected():
    nodes = [Node(f"n{k}", "tanh", ("x",)) for k in range(10_001)]
    with pytest.raises(GenomeError, match="at most"):
        Genome(nodes, {"h": "n0"})


def test_width_mismatch_names_the_node():
    mut1 = zoo.get("mut1")
    with pytest.raises(GenomeError) as info:
        mut1.check_widths(64, 128)
    message = str(info.value)
    assert "'g_sum'" in message and "64" in message and "128" in message
    mut1.check_widths(128, 128)
    with pytest.raises(GenomeError, match="'r_sum'"):
        zoo.get("mut2").check_widths(128, 64)
    zoo.get("lstm").check_widths(64, 128)


def test_square_input_rules():
    # Raw x through elementwise ops stays input-wide; mixing it with h needs a square input.
    g = Genome([Node("tx", "tanh", ("x",)), Node("m", "mul", ("tx", "x")),
                Node("z", "linear", ("m", "h")), Node("h_new", "tanh", ("z",))],
               {"h": "h_new"})
    assert not g.needs_square_input
    g.check_widths(3, 5)
    mixed = Genome([Node("s", "add", ("x", "h"))], {"h": "s"})
    assert mixed.needs_square_input and "'s'" in mixed.square_input_reasons[0]
    passthrough = Genome([], {"h": "x"})
    assert passthrough.needs_square_input
    with pytest.raises(GenomeError, match="state slot 'h'"):
        passthrough.check_widths(3, 5)
    square = Genome([Node("q", "linear_a", ("x",), {"a": 1.0})], {"h": "q"})
    with pytest.raises(GenomeError, match="'q'"):
        square.check_widths(3, 5)
    Genome([Node("q", "linear_a", ("h",), {"a": 1.0})], {"h": "q"}).check_widths(3, 5)


# --- pruning and order ---------------------------------------------------------------


def test_dead_nodes_are_pruned_in_one_pass():
    nodes = [Node("z", "linear", ("x", "h")), Node("d1", "linear", ("x",)),
             Node("d2", "tanh", ("d1",)), Node("d3", "mul", ("d2", "z")),
             Node("h_new", "tanh", ("z",))]
    g = Genome(nodes, {"h": "h_new"})
    assert [n.id for n in g.nodes] == ["z", "h_new"]
    assert g.pruned == ("d1", "d2", "d3")
    # Pruned once: rebuilding from the kept nodes has nothing left to prune.
    again = Genome(g.nodes, {"h": "h_new"})
    assert again.pruned == () and again == g
    assert "d1" not in g.to_json() and "d3" not in g.to_json()
    assert [n.id for n in Genome.from_json(g.to_json()).nodes] == ["z", "h_new"]
    with pytest.raises(GenomeError):
        g.node("d2")


def test_nodes_in_any_order_are_accepted_and_sorted_topologically():
    ordered = zoo.get("lstm")
    for shuffled in (list(reversed(ordered.nodes)), ordered.nodes[3:] + ordered.nodes[:3]):
        g = Genome(shuffled, {"h": ordered.next_of("h"), "c": ordered.next_of("c")},
                   states=("h", "c"))
        seen = {"x", "h", "c"}
        for node in g.nodes:
            assert set(node.inputs) <= seen, f"{node.id} comes before its inputs"
            seen.add(node.id)
        assert g.fingerprint() == ordered.fingerprint()
        assert sorted(n.id for n in g.nodes) == sorted(n.id for n in ordered.nodes)


def test_topological_order_is_stable_in_the_given_order():
    nodes = [Node("b", "linear", ("x",)), Node("a", "linear", ("h",)),
             Node("s", "add", ("a", "b")), Node("h_new", "tanh", ("s",))]
    assert [n.id for n in Genome(nodes, {"h": "h_new"}).nodes] == ["b", "a", "s", "h_new"]
    late = [Node("h_new", "tanh", ("s",)), Node("s", "add", ("a", "b")),
            Node("a", "linear", ("h",)), Node("b", "linear", ("x",))]
    assert [n.id for n in Genome(late, {"h": "h_new"}).nodes] == ["a", "b", "s", "h_new"]


def test_output_slot_and_state_passthrough():
    g = Genome([Node("z", "linear", ("x", "h")), Node("c_new", "tanh", ("z",))],
               {"h": "c", "c": "c_new"}, states=("h", "c"), output="c")
    assert g.output == "c" and g.next_state == ("c", "c_new")
