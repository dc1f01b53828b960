"""Every op in the genome's op table is computed by `GenomeCell`, as the table says.

One cell per op: `a = W_a·x + b_a`, `b = U_b·h + b_b`, then the op applied to
`a` (and `b` for binary ops) is the next state. The expected values come from
a NumPy reference written per op here, so a new op in `OPS` fails this suite
until it has a reference and the compiler computes it.
"""

import keras
import numpy as np
import pytest

from archsearch.genome import GenomeBuilder
from archsearch.genome.ops import KERAS_SPECIAL, OPS
from archsearch.layers import GenomeCell
from archsearch.layers.cell import apply_op

UNITS, INPUT_DIM, BATCH = 4, 3, 5


def _sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


#: op -> NumPy reference over (cell, x, h, a, b); `a` and `b` are the values above.
REFERENCE = {
    "linear": lambda c, x, h, a, b: (x @ c.get_projection("op", "x")
                                     + h @ c.get_projection("op", "h") + _bias(c, "op")),
    "linear_a": lambda c, x, h, a, b: h @ c.get_projection("op", "h") + _bias(c, "op"),
    "add": lambda c, x, h, a, b: a + b,
    "mul": lambda c, x, h, a, b: a * b,
    "sub": lambda c, x, h, a, b: a - b,
    "one_minus": lambda c, x, h, a, b: 1.0 - a,
    "scale": lambda c, x, h, a, b: a * keras.ops.convert_to_numpy(c.scales["op"]),
    "tanh": lambda c, x, h, a, b: np.tanh(a),
    "sigmoid": lambda c, x, h, a, b: _sigmoid(a),
    "relu": lambda c, x, h, a, b: np.maximum(a, 0.0),
    "identity": lambda c, x, h, a, b: a,
}


def _bias(cell, node_id):
    return keras.ops.convert_to_numpy(cell.bias)[cell.plan.bias_slice(node_id)]


def _genome(op):
    """A one-state cell whose next state is `op` applied to `a` (and `b`)."""
    builder = GenomeBuilder(states=("h",))
    if op == "linear":
        out = builder.linear("x", "h", bias=0.5, name="op")
    elif op == "linear_a":
        out = builder.linear_a(1.0, "h", bias=0.5, name="op")
    else:
        args = [builder.linear("x", name="a"), builder.linear("h", name="b")]
        out = getattr(builder, op)(*args[:OPS[op].min_arity], name="op")
    return builder.build({"h": out}, name=f"only_{op}")


def _random_weights(cell, rng):
    cell.set_weights([rng.normal(size=w.shape).astype("float32") for w in cell.weights])


def test_reference_covers_the_op_table():
    assert set(REFERENCE) == set(OPS)


def test_every_keras_kind_is_special_or_a_keras_ops_function():
    for name, spec in OPS.items():
        assert spec.keras in KERAS_SPECIAL or callable(getattr(keras.ops, spec.keras, None)), \
            name


@pytest.mark.parametrize("op", sorted(OPS))
def test_cell_computes_op(op):
    rng = np.random.default_rng(sorted(OPS).index(op))
    cell = GenomeCell(_genome(op), units=UNITS)
    cell.build((None, INPUT_DIM))
    _random_weights(cell, rng)
    x = rng.normal(size=(BATCH, INPUT_DIM)).astype("float32")
    h = rng.normal(size=(BATCH, UNITS)).astype("float32")
    a = b = None
    if op not in ("linear", "linear_a"):
        a = x @ cell.get_projection("a", "x") + _bias(cell, "a")
        if OPS[op].min_arity > 1:
            b = h @ cell.get_projection("b", "h") + _bias(cell, "b")
    output, states = cell(x, [h])
    want = REFERENCE[op](cell, x, h, a, b)
    got = keras.ops.convert_to_numpy(output)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(states[0]), want, rtol=1e-5,
                               atol=1e-5)
    # The reference is not trivially met: the op changes its input.
    if op != "identity" and a is not None:
        assert not np.allclose(got, a)


def test_apply_op_refuses_projections_and_names_the_op():
    with pytest.raises(ValueError, match="Received: spec.name='linear_a'"):
        apply_op(OPS["linear_a"], [np.zeros(3)])
