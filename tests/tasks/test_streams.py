"""Continual arithmetic and memorization: problems joined in streams, state never reset."""

import doctest
import math

import numpy as np
import pytest

import archsearch.tasks as tasks
from archsearch.space.cells import PathError
from archsearch.space.task_options import check_options
from archsearch.tasks import arithmetic, memorization, streams

OPTIONS = {"arithmetic": {"max_digits": 2, "max_distractors": 1, "num_examples": 800},
           "memorization": {"length": 4, "num_examples": 800}}


def _load(task, **extra):
    return tasks.get(task).prepare(seed=3, batch_size=8, **{**OPTIONS[task], **extra})


def test_doctests():
    assert doctest.testmod(streams).failed == 0


@pytest.mark.parametrize("task", sorted(OPTIONS))
def test_chunks_continue_the_stream_row_by_row(task):
    prepared = _load(task, continual=True, seq_len=30)
    assert prepared.stateful and prepared.info["continual"] is True
    x, y, w = prepared.arrays["train"]
    assert x.shape == y.shape == w.shape and x.shape[1:] == (8, 30) and x.shape[0] > 3
    np.testing.assert_array_equal(x[1:, :, 0], y[:-1, :, -1])  # chunk i+1 starts where i ended
    np.testing.assert_array_equal(x[:, :, 1:], y[:, :, :-1])   # targets are the next symbols
    assert (x > 0).all()  # no padding: problems follow each other with no break


@pytest.mark.parametrize("task", sorted(OPTIONS))
def test_only_answers_are_scored_as_in_separate_examples(task):
    separate, joined = _load(task), _load(task, continual=True, seq_len=30)
    vocab = separate.vocab
    x, y, w = (a.transpose(1, 0, 2).reshape(8, -1) for a in joined.arrays["valid"])
    go = vocab.index("=")
    # A scored target follows an `=` of its own problem: never one before the stream's
    # first `=`, and never the first symbol of the next problem (the one after an answer).
    for xs, ys, ws in zip(x, y, w, strict=True):
        first_go = int(np.argmax(xs == go))
        assert ws[:first_go].sum() == 0 and ws.sum() > 0
        starts = np.flatnonzero(ws[:-1] > ws[1:]) + 1  # first target after an answer
        assert (ws[starts] == 0).all() and (ys[starts] != go).all()
    # The same answers are scored: the weighted share of targets is close to the separate one.
    sx, sy, sw = separate.arrays["valid"]
    share_joined = w.sum() / w.size
    share_separate = sw.sum() / (sy > 0).sum()
    assert abs(share_joined - share_separate) < 0.1
    assert y.dtype == sy.dtype


def test_same_seed_same_streams_validation_fixed():
    a = _load("arithmetic", continual=True, num_examples=3000)
    b = _load("arithmetic", continual=True, num_examples=3000)
    np.testing.assert_array_equal(a.arrays["train"][0], b.arrays["train"][0])
    other = tasks.get("arithmetic").prepare(seed=4, batch_size=8, continual=True,
                                            **{**OPTIONS["arithmetic"], "num_examples": 3000})
    assert not np.array_equal(a.arrays["train"][0], other.arrays["train"][0])
    np.testing.assert_array_equal(a.arrays["valid"][0], other.arrays["valid"][0])


@pytest.mark.parametrize("task", sorted(OPTIONS))
@pytest.mark.parametrize(("options", "match"), [
    ({"continual": "yes"}, "expects option continual to be true or false"),
    ({"continual": 1}, "expects option continual to be true or false"),
    ({"continual": True, "num_examples": 20}, "do not fill one chunk"),
])
def test_bad_options_are_named(task, options, match):
    with pytest.raises(tasks.TaskError, match=match):
        tasks.get(task).prepare(batch_size=8, **{**OPTIONS[task], **options})


def test_space_files_check_the_option():
    for task in OPTIONS:
        assert check_options(task, {"continual": True})["continual"] is True
        with pytest.raises(PathError) as info:
            check_options(task, {"continual": "no"})
        assert info.value.path == ("continual",)


def test_default_is_the_separate_examples():
    assert arithmetic.Arithmetic.options["continual"] is False
    assert memorization.Memorization.options["continual"] is False
    assert not _load("memorization").stateful


def test_a_short_continual_arithmetic_trial_trains():
    from archsearch.training import Budget, run_trial

    result = run_trial("lstm_f", {"units": 8, "optimizer": "adam", "learning_rate": 0.01},
                       "arithmetic", Budget(steps=6, eval_every=3), seed=0,
                       task_options={**OPTIONS["arithmetic"], "continual": True,
                                     "batch_size": 8, "seq_len": 30})
    assert result.status == "completed", result.failure
    assert math.isfinite(result.score) and 0.0 <= result.score <= 1.0
