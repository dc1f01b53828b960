"""Polyphonic music: Bach chorales from the music21 corpus as piano rolls (JSB-like)."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from archsearch.tasks import sources
from archsearch.tasks.base import Task, TaskError, check_option_int
from archsearch.tasks.prepared import Prepared
from archsearch.tasks.text import split_indices

LOWEST, NUM_NOTES = 21, 88  # MIDI A0 .. C8, the piano keys (as in JSB Chorales)
SPLIT_SEED = 0
_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
NOTE_NAMES = tuple(f"{_NAMES[m % 12]}{m // 12 - 1}" for m in range(LOWEST, LOWEST + NUM_NOTES))


def piano_roll(events: Iterable[tuple[float, float, Iterable[int]]], resolution: int) -> np.ndarray:
    """A binary `(steps, 88)` roll from `(offset, duration, midi_pitches)` events.

    Offsets and durations are in quarter notes; `resolution` is steps per
    quarter note. Step `t` samples time `t / resolution`: a note is on at
    step `t` if it sounds at that instant, so notes shorter than a step that
    fall between two sampling times are dropped (as in JSB Chorales). Pitches
    off the piano are dropped.

    Example:
    >>> roll = piano_roll([(0, 1, [60, 64]), (1, 0.5, [62])], resolution=2)
    >>> roll.shape, roll[:, 60 - 21].tolist(), roll[:, 62 - 21].tolist()
    ((3, 88), [1, 1, 0], [0, 0, 1])
    """
    spans = []
    for offset, duration, pitches in events:
        start = math.ceil(float(offset) * resolution - 1e-9)
        end = math.ceil(float(offset + duration) * resolution - 1e-9)
        spans.append((start, end, [p - LOWEST for p in pitches if 0 <= p - LOWEST < NUM_NOTES]))
    steps = max((end for start, end, _ in spans if end > start), default=0)
    roll = np.zeros((steps, NUM_NOTES), dtype=np.uint8)
    for start, end, keys in spans:
        roll[start:end, keys] = 1
    return roll


def _import_music21():
    try:
        import music21
    except ImportError as err:
        raise TaskError(
            "Task 'music' needs the optional dependency music21: install archsearch[music] "
            "(pip install 'archsearch[music]' or pip install music21)."
        ) from err
    return music21


def chorale_rolls(resolution: int = 1) -> list[np.ndarray]:
    """Piano rolls of the Bach chorales in music21's corpus, cached as `.npz`.

    The first call parses every chorale (minutes) and writes
    `<cache>/music/bach_chorales_r{resolution}.npz`; later calls read it.
    """
    path = sources.cache_dir() / "music" / f"bach_chorales_r{resolution}.npz"
    if path.exists():
        with np.load(path) as saved:
            return np.split(saved["rolls"], np.cumsum(saved["lengths"])[:-1])
    music21 = _import_music21()
    rolls = []
    for score in music21.corpus.chorales.Iterator(returnType="stream"):
        events = [
            (n.offset, n.duration.quarterLength, [p.midi for p in n.pitches])
            for n in score.flatten().notes
            if n.duration.quarterLength > 0  # grace notes take no time
        ]
        roll = piano_roll(events, resolution)
        if len(roll) > 1:
            rolls.append(roll)
    if not rolls:
        raise TaskError("music21's corpus returned no Bach chorales; is its corpus installed?")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez_compressed(tmp, rolls=np.concatenate(rolls), lengths=[len(r) for r in rolls])
    tmp.replace(path)
    return rolls


class Music(Task):
    """Next-step prediction of Bach chorale piano rolls (JSB-like), NLL per step.

    Each chorale of music21's corpus becomes a binary roll of 88 piano keys,
    `resolution` steps per quarter note (1, as in JSB Chorales); chorales are
    split 80/10/10 with a fixed seed. Inputs are the roll without its last
    step (float32 multi-hot, `input_kind="multi_hot"`), targets the roll
    shifted by one step, right-padded to `seq_len` (default: the longest
    training chorale) with weight 0 on padding. Output: a sigmoid per note
    and step; NLL per step = Keras' binary cross-entropy times 88
    (`archsearch.tasks.metrics.nll_per_step`). Here `vocab` and `labels`
    are the 88 note names and there is no padding id. Needs the optional
    extra `archsearch[music]` (music21).

    Options:
        resolution: steps per quarter note (default 1).

    Example:
    >>> import archsearch.tasks as tasks
    >>> data = tasks.get("music").load(batch_size=8)  # doctest: +SKIP
    >>> data.output, data.num_outputs  # doctest: +SKIP
    ('multilabel_sequence', 88)
    """

    name = "music"
    kind = "music"
    source = "music21 corpus: Bach chorales (needs archsearch[music])"
    size = "371 chorales, 88 notes, quarter-note steps"
    output = "multilabel_sequence"
    input_kind = "multi_hot"
    loss = "binary_crossentropy"
    metrics = ("nll_per_step",)
    score_metric = "nll_per_step"
    score_mode = "min"
    default_batch_size = 8
    options = {"resolution": 1}

    def _prepare(self, seed, fraction, seq_len, batch_size, **options):
        resolution = check_option_int(self.name, "resolution", options["resolution"], 1, 16)
        rolls = chorale_rolls(resolution)
        splits = split_indices(np.zeros(len(rolls), dtype=np.int8), SPLIT_SEED, fraction)
        if seq_len is None:
            seq_len = max(len(rolls[i]) - 1 for i in splits["train"])
        arrays = {}
        for split, index in splits.items():
            inputs = np.zeros((len(index), seq_len, NUM_NOTES), dtype=np.float32)
            targets = np.zeros_like(inputs)
            weights = np.zeros((len(index), seq_len), dtype=np.float32)
            for row, i in enumerate(index):
                steps = min(seq_len, len(rolls[i]) - 1)
                inputs[row, :steps] = rolls[i][:steps]
                targets[row, :steps] = rolls[i][1 : steps + 1]
                weights[row, :steps] = 1.0
            arrays[split] = (inputs, targets, weights)
        return Prepared(
            arrays=arrays,
            vocab=NOTE_NAMES,
            labels=NOTE_NAMES,
            seq_len=seq_len,
            batch_size=batch_size,
            info={"chorales": {s: len(i) for s, i in splits.items()}, "resolution": resolution},
        )
