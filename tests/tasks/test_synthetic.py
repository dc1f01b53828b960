import re
import xml.etree.ElementTree as ElementTree

import numpy as np
import pytest

import archsearch.tasks as tasks
from archsearch.tasks import arithmetic, memorization, xml_modelling

SMALL = {
    "memorization": {"num_examples": 200},
    "arithmetic": {"num_examples": 200},
    "xml": {"num_examples": 200, "batch_size": 4},
}


def _text(vocab, ids, weights=None):
    keep = ids > 0 if weights is None else weights > 0
    return "".join(vocab[i] for i in ids[keep])


def test_arithmetic_answer_is_the_arithmetic_of_the_digits():
    rng = np.random.default_rng(0)
    for _ in range(2000):
        text = arithmetic.generate(rng)
        question, answer = text.split("=")
        clean = re.sub("[a-z]", "", question)
        match = re.fullmatch(r"(\d{1,8})([+-])(\d{1,8})", clean)
        assert match, text
        a, op, b = int(match[1]), match[2], int(match[3])
        assert int(answer) == (a + b if op == "+" else a - b), text
        assert len(question) - len(clean) <= 3 * len(clean)


def test_arithmetic_arrays_weight_exactly_the_answer():
    data = tasks.get("arithmetic").prepare(seed=1, num_examples=300)
    vocab = arithmetic.VOCAB
    inputs, targets, weights = data.arrays["train"]
    for x, y, w in zip(inputs, targets, weights, strict=True):
        full = vocab[x[0]] + _text(vocab, y)
        question, answer = full.split("=")
        assert _text(vocab, y, w) == answer
        assert _text(vocab, x) == full[:-1]
    # Teacher forcing with perfect predictions: exact match and accuracy are 1.
    assert tasks.exact_match(targets, targets, weights) == 1.0
    assert tasks.weighted_accuracy(targets, targets, weights) == 1.0
    assert any("=-" in vocab[x[0]] + _text(vocab, y) for x, y in zip(inputs, targets, strict=True))


def test_memorization_reproduces_the_symbols():
    data = tasks.get("memorization").prepare(seed=0, num_examples=50, length=5)
    inputs, targets, weights = data.arrays["train"]
    assert inputs.shape == (50, 10) and data.seq_len == 10
    vocab = memorization.VOCAB
    for x, y, w in zip(inputs, targets, weights, strict=True):
        seen = _text(vocab, x[:5])
        assert vocab[x[5]] == "="
        assert _text(vocab, y, w) == seen
        assert w.tolist() == [0.0] * 5 + [1.0] * 5


def test_xml_documents_are_well_formed():
    rng = np.random.default_rng(0)
    lengths = []
    for _ in range(3000):
        document = xml_modelling.generate(rng)
        root = ElementTree.fromstring(document)
        assert 2 <= len(root.tag) <= 10 and root.tag.isalpha() and root.tag.islower()
        lengths.append(len(document))
    assert max(lengths) > 300  # deep documents occur


def test_xml_stream_is_documents_joined():
    data = tasks.get("xml").prepare(seed=3, num_examples=30, stateful=False, seq_len=16)
    inputs, targets, weights = data.arrays["train"]
    text = "".join(data.vocab[i] for i in inputs.ravel()) + data.vocab[targets[-1, -1]]
    documents = text.split("\n")[:-1]
    assert len(documents) >= 20
    for document in documents:
        ElementTree.fromstring(document)
    np.testing.assert_array_equal(inputs[:, 1:], targets[:, :-1])
    assert weights.min() == 1.0


@pytest.mark.parametrize("name", sorted(SMALL))
def test_same_seed_same_data_other_seed_other_train(name):
    task = tasks.get(name)
    a = task.prepare(seed=5, **SMALL[name]).arrays
    b = task.prepare(seed=5, **SMALL[name]).arrays
    c = task.prepare(seed=6, **SMALL[name]).arrays
    for split in tasks.SPLITS:
        for left, right in zip(a[split], b[split], strict=True):
            np.testing.assert_array_equal(left, right)
    assert not np.array_equal(a["train"][0], c["train"][0])
    # Held-out data does not depend on the trial seed and differs from training data.
    np.testing.assert_array_equal(a["test"][0], c["test"][0])
    assert not np.array_equal(a["valid"][0], a["test"][0])


def test_fraction_and_seq_len_knobs():
    task = tasks.get("arithmetic")
    data = task.prepare(num_examples=1000, fraction=0.1, max_digits=3, seq_len=40)
    assert [len(data.arrays[s][0]) for s in tasks.SPLITS] == [100, 10, 10]
    assert data.arrays["train"][0].shape == (100, 40)
    with pytest.raises(tasks.TaskError, match="seq_len"):
        task.prepare(num_examples=10, max_digits=3, seq_len=20)


def test_load_builds_deterministic_pipelines():
    task = tasks.get("arithmetic")
    first = task.load(seed=2, num_examples=64, batch_size=16, max_digits=3)
    again = task.load(seed=2, num_examples=64, batch_size=16, max_digits=3)
    assert first.num_batches == {"train": 4, "valid": 1, "test": 1}
    assert first.vocab_size == first.num_outputs == len(arithmetic.VOCAB)
    assert (first.output, first.loss, first.stateful) == (
        "sequence",
        "sparse_categorical_crossentropy",
        False,
    )
    batches = [[b[0].numpy() for b in data.train] for data in (first, again)]
    assert len(batches[0]) == 4
    for left, right in zip(*batches, strict=True):
        np.testing.assert_array_equal(left, right)
    x, y, w = next(iter(first.train))
    assert (x.dtype.name, y.dtype.name, w.dtype.name) == ("int32", "int32", "float32")
    assert x.shape == y.shape == w.shape == (16, first.seq_len)
    # Training order is a shuffle of the arrays; valid keeps the array order.
    seen = np.concatenate(batches[0])
    assert sorted(map(tuple, seen)) == sorted(map(tuple, first.arrays["train"][0]))
    np.testing.assert_array_equal(next(iter(first.valid))[0].numpy(), first.arrays["valid"][0])


def test_stateful_xml_pipeline_yields_the_batches_in_order():
    data = tasks.get("xml").load(seed=0, num_examples=40, batch_size=4, seq_len=10)
    assert data.stateful and data.batch_size == 4
    xs = [b[0].numpy() for b in data.train]
    assert len(xs) == data.num_batches["train"] == len(data.arrays["train"][0])
    for i in range(len(xs) - 1):  # row r of batch i+1 continues row r of batch i
        np.testing.assert_array_equal(xs[i + 1][:, 0], data.arrays["train"][1][i][:, -1])
