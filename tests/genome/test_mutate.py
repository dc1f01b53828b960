"""Properties of `archsearch.mutate`: valid, different, reproducible children (no TensorFlow)."""

import re
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import archsearch
from archsearch.genome import Genome, GenomeBuilder, GenomeError, zoo
from archsearch.genome.mutate import Mutator, mutate
from archsearch.genome.operators import Operator

SEEDS = st.integers(min_value=0, max_value=2**63 - 1)
_NEW_ID = re.compile(r"^m\d+$")


def _check_child(parent: Genome, child: Genome) -> None:
    assert isinstance(child, Genome)
    assert child.states == parent.states and child.output == parent.output
    assert child.fingerprint() != parent.fingerprint()
    again = Genome.from_json(child.to_json())
    assert again == child  # valid and round-trips
    assert not again.pruned  # no dead nodes left
    assert "x" in child.next_state or any("x" in n.inputs for n in child.nodes)
    parent_ids = {n.id for n in parent.nodes}
    assert all(n.id in parent_ids or _NEW_ID.match(n.id) for n in child.nodes)


def _property(name: str, seed: int) -> None:
    parent = zoo.get(name)
    child = mutate(parent, seed)
    _check_child(parent, child)
    assert mutate(parent, seed).to_json() == child.to_json()


@pytest.mark.parametrize("name", zoo.names())
@settings(max_examples=15, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(seed=SEEDS)
def test_mutants_are_valid_different_and_reproducible(name, seed):
    _property(name, seed)


@pytest.mark.slow
@pytest.mark.parametrize("name", zoo.names())
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=SEEDS)
def test_mutants_are_valid_different_and_reproducible_many(name, seed):
    _property(name, seed)


@settings(max_examples=10, deadline=None, derandomize=True)
@given(seed=SEEDS)
def test_repeated_mutation_stays_valid(seed):
    genome = zoo.get("gru")
    for generation in range(10):
        child = mutate(genome, seed + generation)
        _check_child(genome, child)
        genome = child


def test_the_public_name_is_the_function():
    assert archsearch.mutate is mutate
    assert mutate(zoo.get("lstm"), seed=3) == archsearch.mutate(zoo.get("lstm"), 3)


def test_different_seeds_explore():
    prints = {mutate(zoo.get("lstm"), s).fingerprint() for s in range(50)}
    assert len(prints) > 40


def test_pinned_child():
    """A change to the operators or the RNG use shows up here."""
    b = GenomeBuilder(("h",))
    z = b.sigmoid(b.linear("x", "h", name="z_pre"), name="z")
    g = b.tanh(b.linear("x", "h", name="g_pre"), name="g")
    parent = b.build({"h": b.add(b.mul(z, "h", name="zh"), g, name="h_new")})
    result = Mutator().run(parent, seed=7)
    assert result.child.to_dict()["nodes"] == [
        {"id": "z_pre", "op": "linear", "inputs": ["x", "h"]},
        {"id": "z", "op": "sigmoid", "inputs": ["z_pre"]},
        {"id": "zh", "op": "mul", "inputs": ["z", "h"]},
        {"id": "m0", "op": "linear_a", "inputs": ["x"], "a": 0.9},
        {"id": "g_pre", "op": "linear", "inputs": ["m0", "h"]},
        {"id": "g", "op": "tanh", "inputs": ["g_pre"]},
        {"id": "h_new", "op": "add", "inputs": ["zh", "g"]},
    ]
    assert result.fired == (("insert_activation", "g_pre: reads m0 = Linear(0.9, x) instead of x"),)
    assert result.attempts == 3 and len(result.rejected) == 2


def test_only_chosen_operators_fire():
    mutator = Mutator(operators={"change_activation": 1.0})
    for seed in range(20):
        result = mutator.run(zoo.get("lstm"), seed)
        assert {name for name, _ in result.fired} == {"change_activation"}
        parent_ops = [n.op for n in zoo.get("lstm").nodes]
        child_ops = [n.op for n in result.child.nodes]
        assert len(child_ops) == len(parent_ops)
        assert [o for o in child_ops if o in ("linear", "mul", "add")] == \
            [o for o in parent_ops if o in ("linear", "mul", "add")]


def test_activation_set_is_configurable():
    for seed in range(20):
        child = mutate(zoo.get("gru"), seed, activations=["relu"],
                       operators={"change_activation": 1, "insert_activation": 1})
        parent_ids = {n.id for n in zoo.get("gru").nodes}
        for node in child.nodes:
            if node.id not in parent_ids:
                assert node.op == "relu"
        assert "relu" in [n.op for n in child.nodes]


def test_linear_a_members_carry_a():
    child = mutate(zoo.get("tanh_rnn"), 0, activations=["linear(0.9)"],
                   operators={"change_activation": 1})
    (act,) = [n for n in child.nodes if n.op != "linear"]
    assert act.op == "linear_a" and act.param("a") == 0.9


def test_elementwise_set_is_configurable():
    for seed in range(10):
        child = mutate(zoo.get("lstm"), seed, elementwise=["sub"],
                       operators={"change_elementwise": 1})
        assert "sub" in [n.op for n in child.nodes]


def test_no_new_square_input_when_disallowed():
    for seed in range(30):
        assert not mutate(zoo.get("lstm"), seed, allow_square_input=False).needs_square_input


def test_max_nodes():
    for seed in range(20):
        assert len(mutate(zoo.get("lstm"), seed, max_nodes=10).nodes) <= 10


def test_custom_operator_plugs_in():
    class SetBias(Operator):
        name = "set_bias"

        def applies(self, graph, node_id):
            return graph.nodes[node_id].op == "linear"

        def apply(self, graph, node_id, rng):
            graph.nodes[node_id].params["bias"] = float(rng.choice([1, 2]))
            return f"{node_id}: bias"

    result = Mutator(operators=[SetBias()]).run(zoo.get("lstm"), 0)
    assert {name for name, _ in result.fired} == {"set_bias"}
    assert any(n.param("bias") for n in result.child.nodes)


def test_gives_up_with_a_genome_error():
    with pytest.raises(GenomeError, match="no valid child .* in 5 attempts"):
        mutate(zoo.get("tanh_rnn"), 0, operators={"change_elementwise": 1}, max_attempts=5)


@pytest.mark.parametrize("kwargs, match", [
    ({"seed": "a"}, "seed must be an integer"),
    ({"seed": 0, "operators": {"shuffle": 1}}, "unknown mutation operator 'shuffle'"),
    ({"seed": 0, "operators": {"remove_node": 0}}, "weight > 0"),
    ({"seed": 0, "operators": {"remove_node": -1}}, "weight must be"),
    ({"seed": 0, "max_attempts": 0}, "max_attempts"),
    ({"seed": 0, "activations": ["swish"]}, "expected an activation"),
    ({"seed": 0, "activations": []}, "activation set is empty"),
    ({"seed": 0, "elementwise": ["div"]}, "expected elementwise ops"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(GenomeError, match=match):
        mutate(zoo.get("lstm"), **kwargs)


def test_rejects_non_genomes():
    with pytest.raises(GenomeError, match="expected a Genome"):
        mutate("lstm", 0)


def test_mutation_does_not_import_tensorflow():
    code = ("import sys, archsearch; from archsearch.genome import zoo; "
            "archsearch.mutate(zoo.get('lstm'), 1); "
            "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
