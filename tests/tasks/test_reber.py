"""The embedded Reber grammar task: strings, continual streams, weights and options."""

import math

import numpy as np
import pytest

import archsearch.tasks as tasks
from archsearch.space.cells import PathError
from archsearch.space.task_options import check_options
from archsearch.tasks import reber
from archsearch.tasks.metrics import MetricSums

# The inner Reber grammar written out independently of the task's tables.
INNER = {0: {"T": 1, "P": 2}, 1: {"S": 1, "X": 3}, 2: {"T": 2, "V": 4},
         3: {"X": 2, "S": 5}, 4: {"P": 3, "V": 5}}
SMALL = {"num_chunks": 6, "eval_chunks": 3, "batch_size": 4, "seq_len": 20}


def accepts(string: str) -> bool:
    """Whether `string` is `B x B <inner Reber path> E x E` with x in {T, P}."""
    if len(string) < 9 or string[:1] != "B" or string[-1:] != "E" or string[1] not in "TP":
        return False
    if string[-2] != string[1] or string[2] != "B" or string[-3] != "E":
        return False
    node = 0
    for symbol in string[3:-3]:
        node = INNER.get(node, {}).get(symbol)
        if node is None:
            return False
    return node == 5


def split_strings(text: str) -> list[str]:
    """Cuts a stream into embedded strings by walking the grammar; the last may be cut off."""
    strings, i = [], 0
    while i < len(text):
        j, node = i + 3, 0
        while j < len(text) and node != 5:
            node = INNER.get(node, {}).get(text[j])
            assert node is not None, text[i:j + 1]
            j += 1
        strings.append(text[i:j + 3])
        i = j + 3
    return strings


def _stream(arrays, row):
    """Row `row` of stateful arrays as text: its inputs, chunk after chunk, and the last target."""
    x, y, _ = arrays
    ids = np.concatenate([*x[:, row], y[-1, row, -1:]])
    return "".join(reber.VOCAB[i] for i in ids)


def test_separate_strings_obey_the_grammar():
    data = tasks.get("reber").prepare(seed=0, continual=False, num_examples=500)
    assert not data.stateful
    lengths = []
    for split in tasks.SPLITS:
        x, y, _ = data.arrays[split]
        for inputs, targets in zip(x, y, strict=True):
            text = reber.VOCAB[inputs[0]] + "".join(reber.VOCAB[i] for i in targets if i)
            assert accepts(text), text
            lengths.append(len(text))
    assert min(lengths) == 9 and max(lengths) > 20
    assert data.seq_len == max(lengths) - 1


def test_continual_streams_are_strings_joined_and_obey_the_grammar():
    data = tasks.get("reber").prepare(seed=1, **SMALL)
    assert data.stateful and data.arrays["train"][0].shape == (6, 4, 20)
    for split in tasks.SPLITS:
        for row in range(4):
            strings = split_strings(_stream(data.arrays[split], row))
            assert len(strings) >= 3
            assert all(accepts(s) for s in strings[:-1]), strings


def test_continual_chunks_carry_over_chunk_boundaries():
    data = tasks.get("reber").prepare(seed=2, **SMALL)
    x, y, _ = data.arrays["train"]
    np.testing.assert_array_equal(x[1:, :, 0], y[:-1, :, -1])  # chunk i+1 continues chunk i
    np.testing.assert_array_equal(x[:, :, 1:], y[:, :, :-1])
    # Strings run across chunk boundaries: not every chunk starts a string.
    assert (x[1:, :, 0] != reber.VOCAB.index("B")).any()
    loaded = tasks.get("reber").load(seed=2, **SMALL)
    batches = [b[0].numpy() for b in loaded.train_epoch(0)]
    np.testing.assert_array_equal(np.stack(batches), x)  # in order, never shuffled


def test_the_long_range_symbol_is_the_second_symbol_and_only_it_is_scored():
    data = tasks.get("reber").prepare(seed=3, **SMALL)
    x, y, w = data.arrays["train"]
    assert w.min() == 1.0  # training predicts every next symbol
    long_ids = data.metric_options["long_range_ids"]
    assert sorted(reber.VOCAB[i] for i in long_ids) == ["P", "T"]
    for split in ("valid", "test"):
        x, y, w = data.arrays[split]
        for row in range(4):
            targets = y[:, row].ravel()
            weights = w[:, row].ravel()
            text = _stream(data.arrays[split], row)
            scored = [k for k in np.flatnonzero(weights) if targets[k] in long_ids]
            # Target k is symbol k + 1 of the stream: each must be a string's second-to-last.
            strings = split_strings(text)
            starts = np.cumsum([0] + [len(s) for s in strings])
            complete = [(a, b) for a, b, s in zip(starts[:-1], starts[1:], strings, strict=True)
                        if accepts(s)]
            assert len(complete) >= len(strings) - 1
            positions = [k + 1 for k in scored]
            assert positions[:len(complete)] == [b - 2 for a, b in complete]
            assert len(positions) - len(complete) <= 1  # a last string cut before its E
            for p in positions:
                start = max(a for a in starts[:-1] if a <= p)
                assert text[p] == text[start + 1] and text[p - 1] == "E"
            # The other scored symbols are B and E, both fixed by the grammar.
            others = {reber.VOCAB[targets[k]] for k in np.flatnonzero(weights)} - {"T", "P"}
            assert others == {"B", "E"}


def test_metrics_score_the_long_range_symbol():
    data = tasks.get("reber").prepare(seed=4, **SMALL)
    x, y, w = data.arrays["valid"]
    sums = MetricSums("sequence", ("long_range_accuracy", "accuracy"), **data.metric_options)
    guess = np.where(np.isin(y, data.metric_options["long_range_ids"]), reber.VOCAB.index("T"), y)
    sums.update_picked(np.zeros(y.shape), guess, y, w)
    result = sums.result()
    t = reber.VOCAB.index("T")
    long = (w > 0) & np.isin(y, data.metric_options["long_range_ids"])
    assert result["long_range_accuracy"] == pytest.approx((y[long] == t).mean())
    assert 0.2 < result["long_range_accuracy"] < 0.8 < result["accuracy"] < 1.0


def test_chrono_tmax_is_the_longest_dependency_of_the_fixed_validation_data():
    a = tasks.get("reber").prepare(seed=0, **SMALL)
    b = tasks.get("reber").prepare(seed=9, **SMALL)
    assert a.chrono_tmax == b.chrono_tmax
    text = _stream(a.arrays["valid"], 0)
    longest = max(len(s) - 3 for s in split_strings(text)[:-1])
    assert 6 <= longest <= a.chrono_tmax


def test_same_seed_same_streams_other_seed_other_training_stream():
    task = tasks.get("reber")
    first, again, other = (task.prepare(seed=s, **SMALL).arrays for s in (5, 5, 6))
    for split in tasks.SPLITS:
        for left, right in zip(first[split], again[split], strict=True):
            np.testing.assert_array_equal(left, right)
    assert not np.array_equal(first["train"][0], other["train"][0])
    np.testing.assert_array_equal(first["valid"][0], other["valid"][0])
    assert not np.array_equal(first["valid"][0], first["test"][0])


@pytest.mark.parametrize(("options", "match"), [
    ({"continual": 1}, "option continual to be true or false. Received: continual=1"),
    ({"num_chunks": 0}, "option num_chunks to be an integer in \\[1, 1000000\\]. "
                        "Received: num_chunks=0"),
    ({"eval_chunks": "many"}, "option eval_chunks to be an integer in"),
    ({"continual": False, "num_examples": 0}, "option num_examples"),
    ({"continual": False, "seq_len": 5}, "seq_len >= "),
    ({"chunks": 3}, "has no option 'chunks'"),
])
def test_bad_options_are_named(options, match):
    with pytest.raises(tasks.TaskError, match=match):
        tasks.get("reber").prepare(**options)


def test_space_files_check_the_same_options():
    assert check_options("reber", {"continual": False, "num_chunks": 10}) == {
        "continual": False, "num_chunks": 10}
    for key, bad in (("continual", "yes"), ("num_chunks", 0), ("eval_chunks", 2.5)):
        with pytest.raises(PathError) as info:
            check_options("reber", {key: bad})
        assert info.value.path == (key,)


def test_a_short_continual_trial_trains_an_lstm():
    from archsearch.training import Budget, run_trial

    result = run_trial("lstm", {"units": 8, "optimizer": "adam", "learning_rate": 0.01},
                       "reber", Budget(steps=12, eval_every=6), seed=0,
                       task_options={"num_chunks": 12, "eval_chunks": 2, "batch_size": 8})
    assert result.status == "completed", result.failure
    assert result.score_metric == "long_range_accuracy" and result.score_mode == "max"
    assert math.isfinite(result.score) and 0.0 <= result.score <= 1.0
    assert set(result.metrics["test"]) == {"loss", "long_range_accuracy", "accuracy"}
