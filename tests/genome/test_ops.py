"""Conformance of the op table: every op has every entry, and each entry is what is used."""

import string

import pytest

from archsearch import Genome, GenomeError, Node
from archsearch.genome import ops
from archsearch.genome.operators import ACTIVATION_OPS, DEFAULT_ACTIVATIONS, Activation
from archsearch.genome.ops import OPS

NAMES = sorted(OPS)


def _cell(op):
    """A one-node cell applying `op` to the right number of units-wide inputs."""
    spec = OPS[op]
    inputs = [f"a{k}" for k in range(spec.min_arity)]
    nodes = [Node(name, "linear", ("x", "h")) for name in inputs]
    params = {key: 0.5 for key in spec.required}
    nodes.append(Node("out", op, tuple(inputs), params))
    return Genome(nodes, {"h": "out"})


@pytest.mark.parametrize("op", NAMES)
def test_every_op_has_every_entry(op):
    spec = OPS[op]
    assert spec.name == op
    assert spec.width in ops.WIDTH_RULES
    assert spec.mutation in ops.MUTATION_CLASSES
    assert spec.precedence in ops.PRECEDENCE
    assert spec.arg_precedence and all(isinstance(p, int) for p in spec.arg_precedence)
    assert spec.keras in ops.KERAS_SPECIAL or spec.keras.isidentifier()
    assert spec.min_arity >= 1
    assert spec.max_arity is None or spec.max_arity >= spec.min_arity
    assert set(spec.required) <= set(spec.params)
    fields = {f for _, f, _, _ in string.Formatter().parse(spec.render) if f is not None}
    positional = {f for f in fields if f.isdigit()}
    assert fields - positional <= {"op", "a", "p"}
    if spec.render:  # fixed arity: every input appears in the template
        assert positional == {str(k) for k in range(spec.max_arity)}
    else:
        assert spec.max_arity is None  # only the n-ary sum is rendered term by term


def test_keras_names_are_real_keras_ops_functions():
    keras = pytest.importorskip("keras")
    for op, spec in OPS.items():
        if spec.keras not in ops.KERAS_SPECIAL:
            assert callable(getattr(keras.ops, spec.keras, None)), (op, spec.keras)


@pytest.mark.parametrize("op", NAMES)
def test_equations_follow_the_render_template(op):
    spec = OPS[op]
    slots = ("h", *(f"a{k}" for k in range(spec.min_arity)))
    params = {key: 0.5 for key in spec.required}
    g = Genome([Node("out", op, slots[1:], params)], dict.fromkeys(slots, "out"), slots)
    if spec.render:
        expected = spec.render.format(*slots[1:], op=op, a="0.5", p="p_out")
    else:
        expected = "U_out·a0 + b_out"
    assert f"h' = {expected}" in g.equations().splitlines()


@pytest.mark.parametrize("op", NAMES)
def test_width_rule_decides_whether_the_raw_input_needs_square_width(op):
    spec = OPS[op]
    params = {key: 0.5 for key in spec.required}
    reads_x = Genome([Node("out", op, ("x",) * spec.min_arity, params)], {"h": "out"})
    assert reads_x.needs_square_input == (spec.width in ("same", "square"))
    assert _cell(op).needs_square_input is False


@pytest.mark.parametrize("op", NAMES)
def test_parameter_count_follows_the_keras_kind(op):
    spec = OPS[op]
    base = _cell(op).parameter_count(3, 5)
    linears = spec.min_arity  # each a linear(x, h): (3 + 5) * 5 + 5
    expected = linears * 45
    if spec.keras == "project":
        expected += (spec.min_arity * 5 + 1) * 5 if spec.width == "units" else 30
    if spec.keras == "scale":
        expected += 5
    assert base == expected


def test_derived_tables():
    assert ops.ACTIVATIONS == ("tanh", "sigmoid", "relu", "identity")
    assert set(ops.SWAPPABLE_ACTIVATIONS) == {*ops.ACTIVATIONS, "linear_a"}
    assert set(ACTIVATION_OPS) == set(ops.SWAPPABLE_ACTIVATIONS)
    assert ops.ELEMENTWISE_BINARY == ("add", "mul", "sub")
    assert set(ops.PARAMETRIC) == {"linear", "linear_a", "scale"}
    assert DEFAULT_ACTIVATIONS == ("tanh", "sigmoid", "relu", "linear(0)", "linear(1)",
                                   "linear(0.9)", "linear(1.1)")
    for op in ops.ELEMENTWISE_BINARY:
        assert OPS[op].min_arity == OPS[op].max_arity == 2
    for op in ops.SWAPPABLE_ACTIVATIONS:
        assert OPS[op].min_arity == OPS[op].max_arity == 1
    assert [Activation.parse(a).op for a in ops.ACTIVATIONS] == list(ops.ACTIVATIONS)


def test_commutativity_is_what_the_fingerprint_uses():
    for op, spec in OPS.items():
        if spec.min_arity != 2 or spec.max_arity != 2:
            continue
        ab = Genome([Node("a", "linear", ("x",)), Node("out", op, ("a", "h"))], {"h": "out"})
        ba = Genome([Node("a", "linear", ("x",)), Node("out", op, ("h", "a"))], {"h": "out"})
        assert (ab.fingerprint() == ba.fingerprint()) == spec.commutative, op


def test_unique_inputs_rule():
    with pytest.raises(GenomeError, match="twice"):
        Node("n", "linear", ("x", "x"))
    Node("n", "mul", ("x", "x"))  # a square is fine
