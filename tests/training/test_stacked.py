"""StackedModel: K member models stacked compute what each member computes alone."""

from types import SimpleNamespace

import numpy as np
import pytest

from archsearch.training import build_model, resolve
from archsearch.training.stacked import StackedModel


def _data(output, input_kind="tokens", vocab=9, outputs=5):
    return SimpleNamespace(batch_size=3, stateful=False, input_kind=input_kind, vocab_size=vocab,
                           output=output, num_outputs=outputs, info={},
                           loss="binary_crossentropy" if output == "multilabel_sequence"
                           else "sparse_categorical_crossentropy")


def _inputs(data, rng):
    if data.input_kind == "multi_hot":
        return (rng.random((3, 6, data.vocab_size)) > 0.6).astype("float32")
    x = rng.integers(1, data.vocab_size, size=(3, 6)).astype("int32")
    x[0, 4:] = 0  # padding, masked when the output is the last step
    x[1, 2:] = 0
    return x


@pytest.mark.parametrize("cell,output,input_kind,layers", [
    ("lstm", "sequence", "tokens", 2),
    ("gru", "last", "tokens", 1),           # GRU: a projection of an inner value (r * h)
    ("peephole_lstm", "last", "tokens", 2),  # per-unit scales, masking through two layers
    ("mgu", "multilabel_sequence", "multi_hot", 1),
])
def test_stacked_logits_equal_each_member_model(cell, output, input_kind, layers):
    data, rng = _data(output, input_kind), np.random.default_rng(0)
    hps = [resolve({"units": 6, "num_layers": layers, "init_scale": s, "forget_bias": None})
           for s in (0.5, 1.0, 2.0)]
    models = [build_model(cell, hp, data, seed=k)[0] for k, hp in enumerate(hps)]
    stacked = StackedModel(models, data, "sgd", [5.0] * 3)
    xs = np.stack([_inputs(data, rng) for _ in models])
    got = stacked.logits(xs).numpy()
    for k, model in enumerate(models):
        want = np.asarray(model.predict_on_batch(xs[k]))
        np.testing.assert_allclose(got[k], want, rtol=1e-5, atol=1e-5)


def test_one_train_step_equals_keras_per_member_and_inactive_members_stay_put():
    data, rng = _data("last"), np.random.default_rng(1)
    hps = [resolve({"units": 6, "optimizer": "adam", "learning_rate": lr, "clip_norm": c})
           for lr, c in ((0.01, 5.0), (0.1, 0.05), (0.3, 1.0))]
    solo = [build_model("gru", hp, data, seed=k)[0] for k, hp in enumerate(hps)]
    twins = [build_model("gru", hp, data, seed=k)[0] for k, hp in enumerate(hps)]
    stacked = StackedModel(twins, data, "adam", [hp["clip_norm"] for hp in hps])
    xs = np.stack([_inputs(data, rng) for _ in hps])
    ys = rng.integers(0, data.num_outputs, size=(3, 3)).astype("int32")
    ws = np.ones((3, 3), "float32")
    before = [v.numpy().copy() for v in stacked.variables]
    losses = stacked.train_step(xs, ys, ws, np.array([0.01, 0.1, 0.3], "float32"),
                                np.array([True, True, False])).numpy()
    for k in range(2):
        keras_loss = float(solo[k].train_on_batch(xs[k], ys[k], sample_weight=ws[k]))
        assert losses[k] == pytest.approx(keras_loss, rel=1e-5)
        np.testing.assert_allclose(stacked.logits(xs).numpy()[k],
                                   np.asarray(solo[k].predict_on_batch(xs[k])), atol=1e-5)
    for var, old in zip(stacked.variables, before, strict=True):
        np.testing.assert_array_equal(var.numpy()[2], old[2])  # member 2 was inactive


@pytest.mark.parametrize("cell,output,input_kind,layers", [
    ("lstm", "sequence", "tokens", 2),
    ("gru", "last", "tokens", 1),
    ("peephole_lstm", "last", "tokens", 2),
    ("mgu", "multilabel_sequence", "multi_hot", 1),
    ("mut1", "sequence", "tokens", 1),  # reads the raw input: the projection is not folded
])
def test_one_sgd_step_moves_every_member_as_autodiff_does(cell, output, input_kind, layers):
    # The member-stacked loop has its own hand-written backward: one plain SGD
    # step (no clipping) must leave each member where Keras' autodiff puts it.
    data, rng = _data(output, input_kind), np.random.default_rng(2)
    hps = [resolve({"units": 6, "num_layers": layers, "optimizer": "sgd", "learning_rate": lr,
                    "clip_norm": 1e6, "forget_bias": None}) for lr in (0.5, 1.0, 2.0)]
    solo = [build_model(cell, hp, data, seed=k)[0] for k, hp in enumerate(hps)]
    for model in solo:
        for layer in model.layers:
            if hasattr(layer, "fused"):
                layer.fused = False  # the autodiff reference
    twins = [build_model(cell, hp, data, seed=k)[0] for k, hp in enumerate(hps)]
    stacked = StackedModel(twins, data, "sgd", [1e6] * 3)
    # Token inputs into a cell that reads them only through its projection:
    # the input projection is folded into the embedding table, when the table
    # (9 rows) is smaller than a batch's tokens (3 x 6 = 18).
    assert stacked._folds(18) == (input_kind == "tokens" and cell != "mut1")
    assert not stacked._folds(9) and not stacked._folds(None)
    xs = np.stack([_inputs(data, rng) for _ in hps])
    shape = (3, 3, 6) if output != "last" else (3, 3)
    ys = (rng.random(shape + (data.num_outputs,)) > 0.5).astype("float32") \
        if output == "multilabel_sequence" else rng.integers(0, data.num_outputs, size=shape)
    ws = np.ones(shape, "float32")
    stacked.train_step(xs, ys, ws, np.array([0.5, 1.0, 2.0], "float32"), np.ones(3, bool))
    moved = stacked.logits(xs).numpy()
    for k, model in enumerate(solo):
        before = np.asarray(model.predict_on_batch(xs[k]))
        model.train_on_batch(xs[k], ys[k], sample_weight=ws[k])
        after = np.asarray(model.predict_on_batch(xs[k]))
        assert np.abs(after - before).max() > 1e-3  # the step moved the member
        np.testing.assert_allclose(moved[k], after, rtol=1e-4, atol=1e-5)
