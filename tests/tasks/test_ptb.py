import numpy as np
import pytest

import archsearch.tasks as tasks

TRAIN = [" the cat sat on the mat ", " the dog ate a <unk> ", " a cat and a dog "] * 20
VALID = [" the cat ate a bird ", " the mat "] * 10
TEST = [" a dog sat on the <unk> "] * 10


@pytest.fixture
def ptb_dir(tmp_path):
    for name, lines in (("train", TRAIN), ("valid", VALID), ("test", TEST)):
        (tmp_path / f"ptb.{name}.txt").write_text("\n".join(lines) + "\n")
    return tmp_path


def test_ptb_loader_reads_the_standard_layout(ptb_dir):
    data = tasks.get("ptb").prepare(data_dir=ptb_dir, batch_size=2, seq_len=4)
    vocab = data.vocab
    assert vocab[:3] == ("<pad>", "<eos>", "<unk>")
    assert set(vocab[3:]) == {"the", "cat", "sat", "on", "mat", "dog", "ate", "a", "and"}
    assert data.stateful and data.info["tokens"]["train"] == sum(len(s.split()) + 1 for s in TRAIN)
    x, y, _ = data.arrays["train"]
    stream = np.concatenate([x[0, 0], x[1, 0]])  # row 0 continues across batches
    assert " ".join(vocab[i] for i in stream) == "the cat sat on the mat <eos> the"
    valid_words = {vocab[i] for i in data.arrays["valid"][0].ravel()}
    assert "<unk>" in valid_words and "bird" not in valid_words  # unseen in training


def test_ptb_dir_from_env_and_subfolder(ptb_dir, monkeypatch, tmp_path_factory):
    nested = tmp_path_factory.mktemp("simple") / "simple-examples" / "data"
    nested.mkdir(parents=True)
    for path in ptb_dir.iterdir():
        (nested / path.name).write_text(path.read_text())
    monkeypatch.setenv("ARCHSEARCH_PTB_DIR", str(nested.parent.parent))
    data = tasks.get("ptb").load(batch_size=2, seq_len=4, fraction=0.5)
    assert data.metrics == ("perplexity", "accuracy")
    assert data.num_batches["train"] == len(data.arrays["train"][0]) > 0
    assert next(iter(data.train))[0].shape == (2, 4)


def test_ptb_missing_files_error(tmp_path, monkeypatch):
    monkeypatch.delenv("ARCHSEARCH_PTB_DIR", raising=False)
    with pytest.raises(tasks.TaskError, match="ARCHSEARCH_PTB_DIR"):
        tasks.get("ptb").prepare()
    (tmp_path / "ptb.train.txt").write_text("a b\n")
    with pytest.raises(tasks.TaskError, match=r"ptb\.valid\.txt, ptb\.test\.txt"):
        tasks.get("ptb").prepare(data_dir=tmp_path)
