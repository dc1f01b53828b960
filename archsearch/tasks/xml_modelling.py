"""XML modelling: next-character prediction on the paper's synthetic XML."""

from __future__ import annotations

import string

import numpy as np

from archsearch.tasks.base import Task, check_option_int
from archsearch.tasks.prepared import PAD, Prepared
from archsearch.tasks.synthetic import split_rngs, split_sizes
from archsearch.tasks.text import stream_arrays

SEPARATOR = "\n"
VOCAB = (PAD, SEPARATOR, "<", ">", "/", *string.ascii_lowercase)


def _tag(rng: np.random.Generator) -> str:
    length = int(rng.integers(2, 11))
    return "".join(string.ascii_lowercase[i] for i in rng.integers(0, 26, size=length))


def generate(rng: np.random.Generator, max_iterations: int = 50) -> str:
    """One XML document, following the paper's generator.

    Start by opening a random tag (2-10 lowercase letters). Then, at each
    iteration, with probability 1/2 or once `max_iterations` iterations have
    passed, close the most recently opened tag; otherwise open a new random
    tag. The document ends when its first tag is closed: the paper's "stop if
    no open tags remain", taken as soon as none remain, so every document has
    exactly one root element and is well-formed XML.

    Example:
    >>> generate(np.random.default_rng(9))
    '<wyhcp><sxxywsx></sxxywsx></wyhcp>'
    """
    stack = [_tag(rng)]
    pieces = [f"<{stack[0]}>"]
    iteration = 1
    while stack:
        if iteration >= max_iterations or rng.random() < 0.5:
            pieces.append(f"</{stack.pop()}>")
        else:
            stack.append(_tag(rng))
            pieces.append(f"<{stack[-1]}>")
        iteration += 1
    return "".join(pieces)


class Xml(Task):
    """Next-character prediction over a stream of generated XML documents.

    Documents are joined, each followed by a newline, into one character
    stream per split. By default the stream is read like a language model's:
    `stateful=True` truncated BPTT, `batch_size` contiguous rows, consecutive
    windows of `seq_len` characters, state carried across batches so a
    closing tag can be predicted from a tag opened windows ago. With
    `stateful=False` the windows are independent examples, shuffled by seed.
    Every character counts (weight 1).

    Options:
        num_examples: training documents (default 8,000, about 820k
            characters); validation and test have a tenth of it each.
        max_iterations: generator iterations before tags are only closed (50).
        stateful: carry state across batches (default True).

    Example:
    >>> import archsearch.tasks as tasks
    >>> data = tasks.get("xml").load(num_examples=50, batch_size=4, seq_len=20)
    >>> data.stateful, data.arrays["train"][0].shape[1:]
    (True, (4, 20))
    """

    name = "xml"
    kind = "synthetic"
    source = "generated"
    size = "8,000 / 800 / 800 documents (~820k training characters)"
    metrics = ("accuracy",)
    default_batch_size = 20
    options = {"num_examples": 8_000, "max_iterations": 50, "stateful": True}

    def _prepare(self, seed, fraction, seq_len, batch_size, **options):
        num_examples = check_option_int(self.name, "num_examples", options["num_examples"], 1)
        max_iterations = check_option_int(self.name, "max_iterations", options["max_iterations"], 1)
        stateful = bool(options["stateful"])
        steps = 35 if seq_len is None else seq_len
        index = {token: i for i, token in enumerate(VOCAB)}
        rngs = split_rngs(seed)
        arrays, chars = {}, {}
        for split, count in split_sizes(num_examples, fraction).items():
            text = "".join(generate(rngs[split], max_iterations) + SEPARATOR for _ in range(count))
            ids = np.array([index[c] for c in text], dtype=np.int32)
            chars[split] = len(ids)
            arrays[split] = stream_arrays(ids, steps, batch_size, stateful, f"{split} stream")
        return Prepared(
            arrays=arrays,
            vocab=VOCAB,
            seq_len=steps,
            batch_size=batch_size,
            stateful=stateful,
            info={"characters": chars, "num_examples": num_examples},
        )
