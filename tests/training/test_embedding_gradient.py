"""An embedding row moves as Adam moves it on the true gradient, however often its token repeats.

The embedding's gradient arrives as one row per token occurrence; summed into
the table it is the true gradient. Squaring the occurrences instead (as
`tf.clip_by_global_norm` and Keras' Adam do on IndexedSlices) gives a second
moment too small by up to the repeat count, and the row moved 4.4x the
learning rate in one step on the quickstart's arithmetic task (found by
`benchmarks/peers.py`: scores 0.04 below Keras' own at lr 0.01).
"""

from types import SimpleNamespace

import numpy as np


def test_one_adam_step_moves_a_repeated_tokens_row_by_at_most_the_learning_rate():
    import keras

    from archsearch.training import build_model, resolve
    from archsearch.training.compiled import CompiledModel

    data = SimpleNamespace(batch_size=4, stateful=False, input_kind="tokens", vocab_size=7,
                           output="sequence", num_outputs=7, info={},
                           loss="sparse_categorical_crossentropy")
    lr = 0.01
    hp = resolve({"units": 8, "learning_rate": lr, "optimizer": "adam", "clip_norm": 5.0})
    x = np.full((4, 16), 3, "int32")  # token 3, 64 times
    y = np.random.default_rng(0).integers(1, 7, size=(4, 16)).astype("int32")
    model, _ = build_model("lstm", hp, data, seed=0)
    table = next(v for v in model.trainable_variables if "embedding" in v.path)
    before = np.array(table.numpy())
    CompiledModel(model).step(x, y, np.ones((4, 16), "float32"), 5.0)
    moved = np.abs(table.numpy() - before)[3]
    keras.utils.clear_session()
    # Adam's first step moves each coordinate by about lr * sign(g).
    assert lr * 0.5 <= moved.max() <= lr * 1.01, moved.max() / lr
