import sys

import numpy as np
import pytest

import archsearch.tasks as tasks
from archsearch.tasks import music


def test_piano_roll_quantizes_notes():
    events = [(0, 2, [60, 64, 200]), (1.5, 0.5, [62]), (0.25, 0.25, [70]), (1.75, 0.25, [72])]
    roll = music.piano_roll(events, resolution=2)
    assert roll.shape == (4, 88) and roll.dtype == np.uint8
    assert roll[:, 60 - 21].tolist() == [1, 1, 1, 1]
    assert roll[:, 62 - 21].tolist() == [0, 0, 0, 1]
    assert roll.sum() == 9  # 200 is off the piano; 70 and 72 sound between sampling times
    assert music.NOTE_NAMES[60 - 21] == "C4" and len(music.NOTE_NAMES) == 88


def test_music_without_music21_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("ARCHSEARCH_CACHE", str(tmp_path))
    monkeypatch.setitem(sys.modules, "music21", None)  # import fails as if not installed
    task = tasks.get("music")
    assert task.output == "multilabel_sequence" and task.loss == "binary_crossentropy"
    with pytest.raises(tasks.TaskError, match=r"install archsearch\[music\]"):
        task.prepare()


def test_music_from_cached_rolls(tmp_path, monkeypatch):
    monkeypatch.setenv("ARCHSEARCH_CACHE", str(tmp_path))
    rng = np.random.default_rng(0)
    rolls = [(rng.random((n, 88)) < 0.05).astype(np.uint8) for n in range(20, 40)]
    (tmp_path / "music").mkdir()
    np.savez(
        tmp_path / "music" / "bach_chorales_r1.npz",
        rolls=np.concatenate(rolls),
        lengths=[len(r) for r in rolls],
    )
    data = tasks.get("music").load(batch_size=4)
    x, y, w = data.arrays["train"]
    assert x.shape == (16, data.seq_len, 88) and data.info["chorales"]["test"] == 2
    assert data.input_kind == "multi_hot" and data.num_outputs == 88
    assert data.score_mode == "min"
    np.testing.assert_array_equal(x[:, 1:][w[:, 1:] > 0], y[:, :-1][w[:, 1:] > 0])
    batch = next(iter(data.train))
    assert batch[0].dtype.name == "float32" and batch[2].shape == (4, data.seq_len)


@pytest.mark.slow
def test_music_real_chorales():
    pytest.importorskip("music21")
    data = tasks.get("music").load(batch_size=8)  # parses ~370 chorales once, then cached
    assert sum(data.info["chorales"].values()) >= 300
    x, y, w = data.arrays["train"]
    notes = y[w > 0].sum(axis=-1)
    assert 3.0 < notes.mean() <= 4.5  # four voices, some rests and unisons
