"""The fused path of GenomeRNN: its hand-written gradients equal autodiff's for any genome."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import archsearch
from archsearch import Genome, Node, zoo
from archsearch.layers import GenomeRNN
from archsearch.layers import rnn as rnn_module
from archsearch.layers.cell import as_genome
from archsearch.layers.fused import check_fused_option, uses_fused

BATCH, STEPS, UNITS, INPUT_DIM = 3, 6, 4, 5
# Every variant the fused loop distinguishes: outputs kept or not, masks
# (carrying the last output or zeroing it), and going backwards.
VARIANTS = [
    {"return_sequences": True},
    {"return_sequences": False, "masked": True},
    {"return_sequences": True, "masked": True, "go_backwards": True},
    {"return_sequences": True, "masked": True, "zero_output_for_mask": True},
    {"return_sequences": False, "go_backwards": True},
]


def _mask():
    mask = np.ones((BATCH, STEPS), bool)
    mask[0, 4:] = False  # padded at the end
    mask[1, :2] = False  # padded at the start
    mask[2, 3] = False  # a hole
    return tf.constant(mask)


def _run(layer, x, init, mask, probes, training=False):
    """Outputs, and grads of sum(probe * output) w.r.t. x, initial states and every weight."""
    with tf.GradientTape() as tape:
        tape.watch(x)
        tape.watch(init)
        outs = layer(x, initial_state=init, mask=mask, training=training)
        loss = sum(tf.reduce_sum(o * p) for o, p in zip(outs, probes, strict=True))
    return outs, tape.gradient(loss, [x, *init, *layer.trainable_weights])


def _relative_error(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return float(np.abs(a - b).max() / max(1.0, np.abs(a).max()))


def _compare(genome, seed=0, masked=False, training=False, dtype="float64", fused=True,
             **options):
    """Largest relative differences (outputs, gradients) between fused and autodiff."""
    rng = np.random.default_rng(seed)
    genome = as_genome(genome)
    input_dim = UNITS if genome.needs_square_input else INPUT_DIM
    fused, reference = (GenomeRNN(genome, UNITS, fused=f, return_state=True, dtype=dtype,
                                  seed=7, **options) for f in (fused, False))
    x = tf.constant(rng.normal(size=(BATCH, STEPS, input_dim)), dtype)
    for layer in (fused, reference):
        layer.build(x.shape)
    for weight in fused.weights:  # non-trivial biases and peepholes too
        weight.assign(rng.normal(size=weight.shape) * 0.5)
    reference.set_weights(fused.get_weights())
    init = [tf.constant(rng.normal(size=(BATCH, UNITS)), dtype) for _ in genome.states]
    mask = _mask() if masked else None
    steps = STEPS if options.get("return_sequences") else None
    shapes = [(BATCH, steps, UNITS) if steps else (BATCH, UNITS)] + [(BATCH, UNITS)] * len(init)
    probes = [tf.constant(rng.normal(size=s), dtype) for s in shapes]
    got_out, got = _run(fused, x, init, mask, probes, training)
    want_out, want = _run(reference, x, init, mask, probes, training)
    out_error = max(_relative_error(a, b) for a, b in zip(want_out, got_out, strict=True))
    assert len(got) == len(want) == 1 + len(init) + len(fused.trainable_weights)
    grad_error = 0.0
    for a, b in zip(want, got, strict=True):
        if a is None:  # autodiff: not connected (e.g. a state slot nothing reads)
            assert b is None or not np.any(np.asarray(b))
            continue
        grad_error = max(grad_error, _relative_error(a, b))
    return out_error, grad_error


@pytest.mark.parametrize("name", zoo.names())
def test_zoo_gradients_equal_autodiff(name):
    # All sequences, plus one of the other variants in turn (each seen >= 4 times).
    turn = 1 + zoo.names().index(name) % (len(VARIANTS) - 1)
    for k, variant in enumerate((VARIANTS[0], VARIANTS[turn])):
        out_error, grad_error = _compare(name, seed=k, **variant)
        assert out_error < 1e-12, variant
        assert grad_error < 1e-9, variant


def test_random_mutant_gradients_equal_autodiff():
    names = zoo.names()
    seen_ops = set()
    for i in range(100):
        genome = zoo.get(names[i % len(names)])
        for k in range(1 + i % 3):  # chains of one to three mutations
            genome = archsearch.mutate(genome, seed=1000 * k + i)
        seen_ops |= {node.op for node in genome.nodes}
        out_error, grad_error = _compare(genome, seed=i, **VARIANTS[i % len(VARIANTS)])
        assert out_error < 1e-12 and grad_error < 1e-9, (i, genome.equations())
    assert {"linear_a", "relu", "scale", "sub", "one_minus", "mul"} <= seen_ops


# Shapes the zoo and mutants rarely make: identity, the raw input as a next
# state, swapped slots, a slot nobody reads, an inner value projected by two
# linear nodes whose blocks are not contiguous, relu, a scale of the input.
HANDMADE = {
    "identity_and_raw_x": Genome(
        [Node("z", "linear", ("x", "h")), Node("a", "identity", ("z",)),
         Node("s", "scale", ("x",)), Node("h2", "mul", ("a", "s"))],
        next_state={"h": "h2", "c": "x"}, states=("h", "c")),
    "swapped_and_unread_slots": Genome(
        [Node("z", "linear", ("x", "h")), Node("r", "relu", ("z",))],
        next_state={"h": "r", "c": "h", "d": "c"}, states=("h", "c", "d"), output="c"),
    "inner_projections": Genome(
        [Node("a", "linear", ("x",), {"bias": 0.5}), Node("m", "tanh", ("a",)),
         Node("p", "linear", ("m", "h")), Node("k", "linear", ("h",), {"bias": -1.0}),
         Node("q", "linear_a", ("m",), {"a": 0.9}), Node("s", "add", ("p", "k")),
         Node("g", "sigmoid", ("s",)), Node("o", "one_minus", ("g",)),
         Node("t", "sub", ("q", "h")), Node("h2", "add", ("o", "t"))],
        next_state={"h": "h2"}, states=("h",)),
    # A pure accumulator that keeps no value for the backward loop and reads x only
    # through its projection: the loop's length comes from the projection (found by
    # discovery_random_cpu: "ValueError: None values not supported").
    "accumulator_keeps_nothing": Genome(
        [Node("p", "linear", ("x",)), Node("h2", "add", ("p", "h"))],
        next_state={"h": "h2"}, states=("h",)),
}


@pytest.mark.parametrize("name", sorted(HANDMADE))
def test_handmade_gradients_equal_autodiff(name):
    for k, variant in enumerate(VARIANTS):
        out_error, grad_error = _compare(HANDMADE[name], seed=k, **variant)
        assert out_error < 1e-12 and grad_error < 1e-9, variant


@pytest.mark.parametrize("name", ["lstm_b", "peephole_lstm", "gru"])
def test_dropout_gradients_equal_autodiff(name):
    _, grad_error = _compare(name, training=True, dropout=0.3, recurrent_dropout=0.4,
                             return_sequences=True, masked=True)
    assert grad_error < 1e-9


@pytest.mark.parametrize("name", ["peephole_lstm", "gru"])
def test_xla_loops_gradients_equal_autodiff(name):
    for k, variant in enumerate(VARIANTS[1:3]):
        out_error, grad_error = _compare(name, seed=k, fused="xla", **variant)
        assert out_error < 1e-12 and grad_error < 1e-9, variant


def test_float32_gradients_within_rounding():
    out_error, grad_error = _compare("lstm_b", dtype="float32", return_sequences=True)
    assert out_error < 1e-5 and grad_error < 1e-5


def test_broken_rule_is_detected(monkeypatch):
    """The comparison can fail: a wrong tanh derivative shows up in the gradients."""
    tanh_grad = tf.raw_ops.TanhGrad
    monkeypatch.setattr(tf.raw_ops, "TanhGrad", lambda y, dy: 1.01 * tanh_grad(y=y, dy=dy))
    _, grad_error = _compare("lstm", return_sequences=True)
    assert grad_error > 1e-4


def test_layer_routes_through_fused_path(monkeypatch):
    calls = []
    original = rnn_module.fused_inner_loop
    monkeypatch.setattr(rnn_module, "fused_inner_loop",
                        lambda *a, **k: calls.append(1) or original(*a, **k))
    x = np.zeros((2, 3, 4), "float32")
    GenomeRNN("gru", 3)(x)
    assert len(calls) == 1
    GenomeRNN("gru", 3, fused=False)(x)
    GenomeRNN("gru", 3, unroll=True)(x)  # "auto" falls back where it cannot run
    assert len(calls) == 1


def test_fused_option_validated_and_serialized():
    assert check_fused_option("xla") == "xla"
    with pytest.raises(ValueError, match=r"Received: fused='fast'"):
        GenomeRNN("gru", 3, fused="fast")
    with pytest.raises(ValueError, match="Received: fused=1"):
        check_fused_option(1)
    layer = GenomeRNN("gru", 3, fused="xla")
    assert GenomeRNN.from_config(layer.get_config()).fused == "xla"
    assert not uses_fused(GenomeRNN("gru", 3, fused=False))
    with pytest.raises(ValueError, match="unroll=True"):
        uses_fused(GenomeRNN("gru", 3, fused=True, unroll=True))


def _train(fused, jit_compile=False):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((7,), dtype="int32"), keras.layers.Embedding(11, 5),
                              GenomeRNN("lstm_b", 6, return_sequences=True, fused=fused),
                              keras.layers.Dense(11)])
    model.compile(keras.optimizers.SGD(0.5), keras.losses.SparseCategoricalCrossentropy(
        from_logits=True), jit_compile=jit_compile)
    rng = np.random.default_rng(0)
    x, y = rng.integers(0, 11, (8, 7)), rng.integers(0, 11, (8, 7))
    model.fit(x, y, batch_size=4, epochs=2, verbose=0, shuffle=False)
    return [np.asarray(w) for w in model.get_weights()]


@pytest.mark.parametrize(("fused", "jit_compile"), [(True, False), ("xla", False), (True, True)])
def test_fit_in_graph_mode_matches_autodiff(fused, jit_compile):
    """In Keras' compiled train step (XLA loops, or all of it under XLA) training is the same."""
    for got, want in zip(_train(fused, jit_compile), _train(False), strict=True):
        np.testing.assert_allclose(got, want, atol=2e-5)


def test_graph_mode_across_sequence_lengths_matches_eager_autodiff():
    """A compiled train step retraced for a new length (with padding masks) stays exact."""
    def train(fused, eager):
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((None,), dtype="int32"),
                                  keras.layers.Embedding(11, 5, mask_zero=True),
                                  GenomeRNN("lstm_b", 4, fused=fused), keras.layers.Dense(3)])
        model.compile(keras.optimizers.SGD(0.1), keras.losses.SparseCategoricalCrossentropy(
            from_logits=True), run_eagerly=eager)
        rng = np.random.default_rng(0)
        for steps in (5, 9):
            x = rng.integers(1, 11, (8, steps))
            x[:3, -2:] = 0
            model.fit(x, rng.integers(0, 3, (8,)), batch_size=4, epochs=2, verbose=0,
                      shuffle=False)
        return model.get_weights()

    for got, want in zip(train(True, False), train(False, True), strict=True):
        np.testing.assert_allclose(got, want, atol=1e-6)


def test_stateful_layer_carries_state_like_autodiff():
    x = np.random.default_rng(0).normal(size=(2, 4, 3)).astype("float32")
    fused, reference = (GenomeRNN("gru", 5, stateful=True, fused=f) for f in (True, False))
    fused(x)
    reference(x)
    reference.set_weights(fused.get_weights())
    for layer in (fused, reference):
        layer.reset_state()
    for _ in range(2):
        np.testing.assert_allclose(np.asarray(fused(x)), np.asarray(reference(x)), atol=1e-6)
