"""Conformance suite for mutation operators, plus what each one specifically does."""

import random

import pytest

from archsearch.genome import GenomeError, zoo
from archsearch.genome.graph import MutableGraph
from archsearch.genome.operators import (
    ACTIVATION_OPS,
    OPERATORS,
    Activation,
    ChangeActivation,
    ChangeElementwise,
    InsertActivation,
    RemoveNode,
    ReplaceWithAncestor,
    ReplaceWithCombination,
)

CELLS = ("tanh_rnn", "lstm", "gru", "mut1", "peephole_lstm", "fgr", "cifg")


def _sites(cell):
    genome = zoo.get(cell)
    return genome, [n.id for n in genome.nodes]


@pytest.mark.parametrize("name", list(OPERATORS))
@pytest.mark.parametrize("cell", CELLS)
def test_every_application_keeps_a_valid_genome(name, cell):
    op = OPERATORS[name]()
    genome, sites = _sites(cell)
    applied = 0
    for k, node_id in enumerate(sites):
        graph = MutableGraph(genome)
        if not op.applies(graph, node_id):
            continue
        what = op.apply(graph, node_id, random.Random(k))
        if what is None:
            continue
        applied += 1
        assert isinstance(what, str) and node_id in what
        child = graph.to_genome()  # raises GenomeError if an operator broke the graph
        assert child.states == genome.states
    assert applied or name in ("change_elementwise", "remove_node") and cell == "tanh_rnn"


@pytest.mark.parametrize("name", list(OPERATORS))
def test_same_rng_same_result(name):
    genome, sites = _sites("lstm")
    results = []
    for _ in range(2):
        graph = MutableGraph(genome)
        for k, node_id in enumerate(sites):
            if node_id in graph.nodes and OPERATORS[name]().applies(graph, node_id):
                OPERATORS[name]().apply(graph, node_id, random.Random(k))
        results.append(graph.to_genome().to_json())
    assert results[0] == results[1]


@pytest.mark.parametrize("name", list(OPERATORS))
def test_weight_is_validated(name):
    assert OPERATORS[name](2.5).weight == 2.5
    with pytest.raises(GenomeError, match="weight"):
        OPERATORS[name](-1)


def test_change_activation_only_on_activation_nodes():
    genome, sites = _sites("peephole_lstm")
    op = ChangeActivation()
    graph = MutableGraph(genome)
    for node_id in sites:
        assert op.applies(graph, node_id) == (graph.nodes[node_id].op in ACTIVATION_OPS)
    before = graph.nodes["f"].op
    op.apply(graph, "f", random.Random(0))
    assert graph.nodes["f"].op != before or graph.nodes["f"].params


def test_change_activation_between_linear_a_keeps_bias():
    graph = MutableGraph(zoo.get("tanh_rnn"))
    graph.nodes["h_new"].op, graph.nodes["h_new"].params = "linear_a", {"a": 1.0, "bias": 0.5}
    ChangeActivation(activations=["linear(0.9)"]).apply(graph, "h_new", random.Random(0))
    assert graph.nodes["h_new"].params == {"a": 0.9, "bias": 0.5}


def test_change_elementwise_only_on_binary_elementwise_nodes():
    genome, sites = _sites("lstm")
    graph = MutableGraph(genome)
    op = ChangeElementwise(elementwise=["add", "sub"])
    assert [s for s in sites if op.applies(graph, s)] == ["kept", "write", "c_new", "h_new"]
    op.apply(graph, "c_new", random.Random(0))
    assert graph.nodes["c_new"].op == "sub"


def test_insert_activation_adds_one_node_between_node_and_parent():
    graph = MutableGraph(zoo.get("lstm"))
    what = InsertActivation(activations=["relu"]).apply(graph, "h_new", random.Random(1))
    assert "m0" in graph.nodes and graph.nodes["m0"].op == "relu"
    assert "m0" in graph.nodes["h_new"].inputs and "reads m0" in what
    assert len(graph.to_genome().nodes) == len(zoo.get("lstm").nodes) + 1


def test_remove_node_needs_one_input_and_one_output():
    graph = MutableGraph(zoo.get("lstm"))
    op = RemoveNode()
    assert op.applies(graph, "tc")  # tanh(c'), read only by h_new
    assert not op.applies(graph, "c_new")  # read by tc and is the next c
    assert not op.applies(graph, "write")  # two inputs
    op.apply(graph, "tc", random.Random(0))
    assert graph.nodes["h_new"].inputs == ["o", "c_new"]


def test_replace_with_ancestor_rewires_readers():
    graph = MutableGraph(zoo.get("tanh_rnn"))
    ReplaceWithAncestor().apply(graph, "h_new", random.Random(0))
    assert "h_new" not in graph.nodes
    assert graph.next_state["h"] in ("x", "h", "h_pre")


def test_replace_with_combination_never_closes_a_cycle():
    genome, sites = _sites("fgr")
    for seed in range(200):
        graph = MutableGraph(genome)
        node_id = sites[seed % len(sites)]
        ReplaceWithCombination().apply(graph, node_id, random.Random(seed))
        graph.to_genome()


def test_linear_duplicate_inputs_merge():
    graph = MutableGraph(zoo.get("tanh_rnn"))
    graph.redirect("h", "x")  # h_pre = linear(x, x)
    assert graph.to_genome().node("h_pre").inputs == ("x",)


@pytest.mark.parametrize("text, expected", [
    ("tanh", Activation("tanh")), ("ReLU", Activation("relu")),
    ("linear(0.9)", Activation("linear_a", 0.9)), ("Linear(1.1, x)", Activation("linear_a", 1.1)),
    ("linear_a(0)", Activation("linear_a", 0.0)),
])
def test_activation_parse(text, expected):
    assert Activation.parse(text) == expected
    assert Activation.parse(str(expected)) == expected


@pytest.mark.parametrize("text", ["swish", "linear()", "linear(x)", "linear(nan)", 3])
def test_activation_parse_errors(text):
    with pytest.raises(GenomeError, match="expected an activation"):
        Activation.parse(text)


def test_new_ids_skip_taken_names():
    graph = MutableGraph(zoo.get("tanh_rnn"))
    first = graph.insert("tanh", ["x"])
    graph.nodes["m1"] = graph.nodes.pop(first)
    assert graph.new_id() == "m2"
