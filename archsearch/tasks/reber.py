"""The embedded Reber grammar, as separate strings or as a continual stream.

A Reber string walks the graph below from `B` to `E`, each branch taken
with probability 1/2; an embedded string wraps one as `B T <reber> T E` or
`B P <reber> P E`. Only a memory of the second symbol predicts the
second-to-last one: everything in between is locally predictable.
Gers, Schmidhuber & Cummins 2000 concatenate embedded strings into one
stream that is never reset ("continual"): a cell that cannot forget fills up.
"""

from __future__ import annotations

import numpy as np

from archsearch.tasks.base import Task, check_option_int, scaled
from archsearch.tasks.prepared import PAD, Prepared
from archsearch.tasks.streams import check_continual
from archsearch.tasks.synthetic import fit_seq_len, split_rngs, split_sizes

VOCAB = (PAD, "B", "E", "P", "S", "T", "V", "X")
_ID = {symbol: i for i, symbol in enumerate(VOCAB)}
#: The inner Reber graph: node -> ((symbol, next node), (symbol, next node)); 5 ends it.
GRAPH = {0: (("T", 1), ("P", 2)), 1: (("S", 1), ("X", 3)), 2: (("T", 2), ("V", 4)),
         3: (("X", 2), ("S", 5)), 4: (("P", 3), ("V", 5))}
LONG_RANGE = ("T", "P")
# Automaton states (see `_automaton`): after the first B; per branch, after
# the inner E (the long-range repeat comes next); done (separate strings).
_SECOND, _DONE = 1, 21
_REPEAT = tuple(2 + 9 * b + 7 for b in range(len(LONG_RANGE)))
MAX_CHUNKS = 1_000_000


def _automaton(continual: bool):
    """Tables of the embedded grammar as one automaton, indexed `[state, coin]`.

    States: 0 start, 1 after the first `B`; per branch `b` (`T`, `P`) at
    `2 + 9 b`: expecting the inner `B`, inner nodes 0-5, after the inner `E`
    (the long-range symbol comes next), after the repeated symbol; 20 after
    the final `E` (a new string in a stream, else 21: done, emits padding).
    Returns `(symbol, next_state, determined)`: what a state emits for each
    coin, where it goes, and whether the grammar leaves it one choice.
    """
    symbol = np.zeros((22, 2), np.int32)
    nxt = np.zeros((22, 2), np.int32)

    def edge(state, coin, sym, to):
        symbol[state, coin], nxt[state, coin] = _ID[sym], to

    for coin in (0, 1):
        edge(0, coin, "B", _SECOND)
        if continual:
            edge(20, coin, "B", _SECOND)
        else:
            edge(20, coin, PAD, _DONE)
        edge(_DONE, coin, PAD, _DONE)
    for b, branch in enumerate(LONG_RANGE):
        base = 2 + 9 * b
        edge(_SECOND, b, branch, base)
        for coin in (0, 1):
            edge(base, coin, "B", base + 1)
            edge(base + 6, coin, "E", base + 7)
            edge(base + 7, coin, branch, base + 8)
            edge(base + 8, coin, "E", 20)
        for node, choices in GRAPH.items():
            for coin, (sym, to) in enumerate(choices):
                edge(base + 1 + node, coin, sym, base + 1 + to)
    determined = symbol[:, 0] == symbol[:, 1]
    return symbol, nxt, determined


_DETERMINED = _automaton(continual=True)[2]


def generate(rng: np.random.Generator, rows: int, steps: int, continual: bool = True):
    """`rows` sequences of `steps` symbols: streams, or single strings padded with 0.

    Returns `(ids, states)`, both `(rows, steps)`: the symbol ids and the
    automaton state that emitted each (see `determined`, `long_range`).
    Every row starts with a `B`.

    Example:
        >>> ids, _ = generate(np.random.default_rng(0), rows=1, steps=20, continual=False)
        >>> "".join(VOCAB[i] for i in ids[0] if i)
        'BPBTSSSSSXSEPE'
    """
    symbol, nxt, _ = _automaton(continual)
    coins = rng.integers(0, 2, size=(steps, rows), dtype=np.int32)
    state = np.zeros(rows, np.int32)
    ids = np.zeros((steps, rows), np.int32)
    states = np.zeros((steps, rows), np.int32)
    for t in range(steps):
        ids[t], states[t] = symbol[state, coins[t]], state
        state = nxt[state, coins[t]]
    return ids.T.copy(), states.T.copy()


def determined(states) -> np.ndarray:
    """Whether the grammar left each symbol no choice (its long-range repeat included)."""
    return _DETERMINED[states]


def long_range(states) -> np.ndarray:
    """Whether each symbol is the repeat of its string's second symbol."""
    return np.isin(states, _REPEAT)


def longest_dependency(states) -> int:
    """Most steps from a second symbol to its repeat, over the rows of `states`."""
    longest = 0
    for row in np.asarray(states):
        heads, repeats = np.flatnonzero(row == _SECOND), np.flatnonzero(long_range(row))
        for head, repeat in zip(heads, repeats, strict=False):
            longest = max(longest, int(repeat - head))
    return longest


def _strings(rng, count: int):
    """`count` separate embedded strings, padded to the longest; `(ids, states)`."""
    steps = 48
    while True:
        ids, states = generate(rng, count, steps, continual=False)
        if not ids[:, -1].any():
            keep = int((ids > 0).sum(axis=1).max())
            return ids[:, :keep], states[:, :keep]
        steps *= 2  # a string longer than the draw: draw them all again, longer


def _arrays(ids, states, train: bool):
    """Next-symbol arrays; weight 1 on every symbol to train, on the determined ones to score."""
    x, y = ids[..., :-1], ids[..., 1:]
    keep = y > 0 if train else determined(states[..., 1:]) & (y > 0)
    return np.ascontiguousarray(x), np.ascontiguousarray(y), keep.astype(np.float32)


class Reber(Task):
    """Next-symbol prediction on the embedded Reber grammar, scored on the long-range symbol.

    With `continual=True` (the default) each of the `batch_size` rows is one
    stream of embedded strings joined without a break, cut into consecutive
    chunks of `seq_len` symbols: batch `i + 1` continues batch `i` row by row,
    and the trainer carries the state across chunks (truncated
    backpropagation, as the stateful language models), resetting it only at
    the start of a pass over a split. With `continual=False` each example is
    one embedded string from a zero state, padded to the longest.

    Training weights every next symbol. Validation and test weight only the
    symbols the grammar determines: `accuracy` is next-symbol accuracy where
    the grammar determines it, and `long_range_accuracy` (the score) is
    accuracy on the repeated `T`/`P` alone, the only symbols a memory of the
    second one predicts; chance is 1/2 there. `chrono_tmax` is the longest
    such dependency in the validation data.

    Options:
        continual: one stream per row, state carried (default True).
        num_chunks: training chunks per stream (continual; default 500).
        eval_chunks: validation and test chunks per stream (continual; default 50).
        num_examples: training strings (`continual=False`; default 10,000);
            validation and test have a tenth of it each.

    Example:
    >>> import archsearch.tasks as tasks
    >>> data = tasks.get("reber").load(num_chunks=4, eval_chunks=2, batch_size=8)
    >>> data.stateful, data.num_batches, data.score_metric
    (True, {'train': 4, 'valid': 2, 'test': 2}, 'long_range_accuracy')
    """

    name = "reber"
    kind = "synthetic"
    source = "generated (Gers, Schmidhuber & Cummins 2000)"
    size = "32 streams x 500 / 50 / 50 chunks of 75 symbols"
    metrics = ("long_range_accuracy", "accuracy")
    score_metric = "long_range_accuracy"
    default_seq_len = 75
    options = {"continual": True, "num_chunks": 500, "eval_chunks": 50, "num_examples": 10_000}

    def _prepare(self, seed, fraction, seq_len, batch_size, **options):
        continual = check_continual(self.name, options["continual"])
        chunks = check_option_int(self.name, "num_chunks", options["num_chunks"], 1, MAX_CHUNKS)
        eval_chunks = check_option_int(self.name, "eval_chunks", options["eval_chunks"], 1,
                                       MAX_CHUNKS)
        num_examples = check_option_int(self.name, "num_examples", options["num_examples"], 1)
        rngs = split_rngs(seed)
        arrays, tmax = {}, 0
        if continual:
            steps = self.default_seq_len if seq_len is None else seq_len
            for split in rngs:
                n = scaled(chunks if split == "train" else eval_chunks, fraction)
                ids, states = generate(rngs[split], batch_size, n * steps + 1)
                x, y, w = _arrays(ids, states, split == "train")
                arrays[split] = tuple(a.reshape(batch_size, n, steps).transpose(1, 0, 2).copy()
                                      for a in (x, y, w))
                tmax = longest_dependency(states) if split == "valid" else tmax
        else:
            drawn = {split: _strings(rngs[split], count)
                     for split, count in split_sizes(num_examples, fraction).items()}
            steps = fit_seq_len(self.name, max(ids.shape[1] for ids, _ in drawn.values()) - 1,
                                seq_len)
            for split, (ids, states) in drawn.items():
                pad = steps + 1 - ids.shape[1]
                arrays[split] = _arrays(np.pad(ids, ((0, 0), (0, pad))),
                                        np.pad(states, ((0, 0), (0, pad)), constant_values=_DONE),
                                        split == "train")
            tmax = longest_dependency(drawn["valid"][1])
        sizes = ({"num_chunks": chunks, "eval_chunks": eval_chunks} if continual
                 else {"num_examples": num_examples})
        info = {"continual": continual, **sizes}
        return Prepared(arrays=arrays, vocab=VOCAB, seq_len=steps, batch_size=batch_size,
                        stateful=continual, info=info, chrono_tmax=max(tmax, 3),
                        metric_options={"long_range_ids": [_ID[s] for s in LONG_RANGE]})

