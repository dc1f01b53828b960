import numpy as np
import pytest

from archsearch.tasks import TaskError
from archsearch.tasks.text import Vocabulary, split_indices, stream_arrays, tokenize


def test_tokenize_keeps_contractions_and_splits_punctuation():
    assert tokenize("I'm NOT sure... ok?") == ["i'm", "not", "sure", ".", ".", ".", "ok", "?"]


def test_vocabulary_ranks_by_count_then_string():
    vocab = Vocabulary.from_counts({"b": 2, "a": 2, "c": 5, "d": 1}, max_size=4)
    assert vocab.tokens == ("<pad>", "<unk>", "c", "a", "b")
    assert vocab.encode(["c", "d", "b"]).tolist() == [2, 1, 4]
    assert vocab.decode([2, 3]) == ["c", "a"]
    with pytest.raises(TaskError, match="<pad>"):
        Vocabulary(["a"])


def test_split_is_stratified_disjoint_and_nested():
    labels = np.array([0] * 900 + [1] * 100)
    full = split_indices(labels, seed=0)
    assert [len(full[s]) for s in ("train", "valid", "test")] == [800, 100, 100]
    assert sorted(np.concatenate(list(full.values())).tolist()) == list(range(1000))
    assert (labels[full["test"]] == 1).sum() == 10
    small = split_indices(labels, seed=0, fraction=0.1)
    for split in full:
        assert set(small[split]) <= set(full[split])
    assert len(small["train"]) == 80
    assert not np.array_equal(split_indices(labels, seed=1)["test"], full["test"])


def test_stateful_stream_layout_is_the_ptb_readers():
    ids = np.arange(1, 102)
    x, y, w = stream_arrays(ids, seq_len=5, batch_size=4, stateful=True)
    assert x.shape == (4, 4, 5)  # rows of 25 tokens, (25 - 1) // 5 windows
    np.testing.assert_array_equal(x[0, 0], [1, 2, 3, 4, 5])
    np.testing.assert_array_equal(x[1, 0], [6, 7, 8, 9, 10])
    np.testing.assert_array_equal(x[0, 1], [26, 27, 28, 29, 30])
    np.testing.assert_array_equal(y, x + 1)
    assert w.dtype == np.float32 and w.min() == 1.0


def test_stateless_stream_windows():
    x, y, _ = stream_arrays(np.arange(1, 12), seq_len=3, batch_size=99, stateful=False)
    assert x.tolist() == [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
    np.testing.assert_array_equal(y, x + 1)
    with pytest.raises(TaskError, match="too short"):
        stream_arrays(np.arange(3), seq_len=5, batch_size=2, stateful=True)
