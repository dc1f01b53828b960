"""The copy task: the letters read first are the targets after the delay."""

import math

import numpy as np
import pytest

import archsearch.tasks as tasks
from archsearch.tasks import copy_memory

SMALL = {"num_examples": 200, "delay": 15, "length": 4, "alphabet_size": 8}


def _text(ids):
    return "".join(copy_memory.VOCAB[i] for i in ids)


def test_targets_are_the_input_after_the_delay():
    data = tasks.get("copy").prepare(seed=0, **SMALL)
    assert data.seq_len == 15 + 2 * 4
    for split in tasks.SPLITS:
        x, y, w = data.arrays[split]
        assert x.shape == y.shape == w.shape == (len(x), 23)
        np.testing.assert_array_equal(y[:, 15 + 4:], x[:, :4])  # copied 15 steps on
        for inputs, targets, weights in zip(x, y, w, strict=True):
            letters = _text(inputs[:4])
            assert set(letters) <= set("abcdefgh")
            assert _text(inputs[4:]) == "_" * 14 + ":" + "_" * 4
            assert _text(targets) == "_" * 19 + letters
            assert weights.tolist() == [0.0] * 19 + [1.0] * 4


def test_load_scores_accuracy_on_the_copied_symbols():
    data = tasks.get("copy").load(seed=0, batch_size=16, **SMALL)
    assert (data.output, data.loss, data.metrics) == (
        "sequence", "sparse_categorical_crossentropy", ("accuracy", "exact_match"))
    assert data.chrono_tmax == 22  # Tallec & Ollivier's 3T/2
    x, y, w = data.arrays["valid"]
    assert tasks.weighted_accuracy(y, y, w) == 1.0
    blanks = np.full_like(y, copy_memory.VOCAB.index("_"))
    assert tasks.weighted_accuracy(blanks, y, w) == 0.0


def test_same_seed_same_data_and_held_out_data_fixed():
    task = tasks.get("copy")
    a, b, c = (task.prepare(seed=s, **SMALL).arrays for s in (1, 1, 2))
    for split in tasks.SPLITS:
        for left, right in zip(a[split], b[split], strict=True):
            np.testing.assert_array_equal(left, right)
    assert not np.array_equal(a["train"][0], c["train"][0])
    np.testing.assert_array_equal(a["valid"][0], c["valid"][0])


@pytest.mark.parametrize(("options", "match"), [
    ({"delay": 0}, "option delay to be an integer in \\[1, 100000\\]. Received: delay=0"),
    ({"alphabet_size": 27}, "option alphabet_size to be an integer in \\[1, 26\\]"),
    ({"length": True}, "option length"),
    ({"seq_len": 10}, "sets its sequence length with options delay and length"),
])
def test_bad_options_are_named(options, match):
    with pytest.raises(tasks.TaskError, match=match):
        tasks.get("copy").prepare(num_examples=10, **options)


def test_a_short_trial_trains_an_lstm():
    from archsearch.training import Budget, run_trial

    result = run_trial("lstm", {"units": 8, "optimizer": "adam", "learning_rate": 0.01},
                       "copy", Budget(steps=10, eval_every=5), seed=0,
                       task_options={"delay": 10, "num_examples": 256})
    assert result.status == "completed", result.failure
    assert result.score_metric == "accuracy" and math.isfinite(result.score)
    assert {"accuracy", "exact_match"} <= set(result.metrics["test"])
