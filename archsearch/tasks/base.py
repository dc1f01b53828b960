"""The `Task` base class, the `TaskData` a task yields, and `TaskError`.

A task turns a seed and a few size knobs into numpy arrays (`Task.prepare`, no
TensorFlow) and then into train/valid/test `tf.data` pipelines (`Task.load`).
Every split yields `(inputs, targets, sample_weight)` batches; id 0 is the
padding id of every vocabulary and is never a target with non-zero weight.
"""

from __future__ import annotations

import abc
import dataclasses
import math
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from archsearch.tasks import pipeline
from archsearch.tasks.prepared import SPLITS, Arrays, Prepared


class TaskError(ValueError):
    """A task name, option or data source is wrong or unavailable."""


@dataclasses.dataclass(frozen=True)
class TaskData:
    """Train/valid/test pipelines of one task plus what a trainer needs.

    Attributes:
        name: the task name.
        train: `tf.data.Dataset` of `(inputs, targets, sample_weight)` batches.
        valid: same for validation.
        test: same for test.
        arrays: the numpy arrays behind the three pipelines (see `Prepared`).
        vocab: input token strings, `vocab[0] == "<pad>"` (for
            `input_kind="multi_hot"`: the names of the input dimensions).
        labels: output class names (the vocabulary for next-token tasks).
        vocab_size: `len(vocab)`: the embedding's input dimension.
        num_outputs: width of the model's output layer.
        output: `"sequence"`, `"last"`, `"multilabel_sequence"` or
            `"regression"` (one real value per example, read at the last step).
        input_kind: `"tokens"` (int32 ids) or `"multi_hot"` (float32 vectors
            of width `vocab_size`).
        loss: `"sparse_categorical_crossentropy"` or `"binary_crossentropy"`,
            both on logits, or `"mean_squared_error"` (regression); all
            weighted by `sample_weight`.
        metrics: the metrics the paper reports, headline first.
        score_metric: the metric a search ranks by; `score_mode` says whether
            higher (`"max"`) or lower (`"min"`) is better.
        score_mode: `"max"` or `"min"`.
        stateful: carry RNN state across consecutive batches (fixed batch
            size, reset at the start of each pass over a split).
        batch_size: examples (rows) per batch.
        seq_len: time steps per example.
        num_batches: split name -> batches in one pass.
        info: extra facts (token counts, data source, options used).
        epochs: `epoch -> training batches` (see `train_epoch`); None for
            hand-made `TaskData`, which then trains on `train`.
        chrono_tmax: the task's longest dependency in steps, the T_max of
            the `forget_bias="chrono"` initialisation; `None` if it has none.
        metric_options: extra keyword arguments of
            `archsearch.tasks.metrics.MetricSums` (see `MetricSums.for_data`).
    """

    name: str
    train: Any
    valid: Any
    test: Any
    arrays: Mapping[str, Arrays]
    vocab: tuple[str, ...]
    labels: tuple[str, ...]
    vocab_size: int
    num_outputs: int
    output: str
    input_kind: str
    loss: str
    metrics: tuple[str, ...]
    score_metric: str
    score_mode: str
    stateful: bool
    batch_size: int
    seq_len: int
    num_batches: Mapping[str, int]
    info: Mapping[str, Any]
    epochs: Any = None
    chrono_tmax: int | None = None
    metric_options: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def train_epoch(self, epoch: int) -> Any:
        """The training batches of pass `epoch` (0-based), an iterable.

        Its order depends on the load seed and `epoch` only, never on how often
        the data was iterated before (workers reuse loaded data across trials).
        """
        return self.train if self.epochs is None else self.epochs(epoch)

    def split(self, name: str) -> Any:
        """Returns the pipeline of split `name` (`"train"`, `"valid"`, `"test"`)."""
        if name not in SPLITS:
            raise TaskError(f"Expected a split in {SPLITS}. Received: name={name!r}")
        return getattr(self, name)


class Task(abc.ABC):
    """A learning problem: a seed and size knobs in, `TaskData` out.

    Subclasses set the class attributes and implement `_prepare`; `prepare`
    adds argument checks and `load` the `tf.data` pipelines. Task-specific
    options (with their defaults) are listed in `options` and passed to
    `load` as keywords. `seq_len` means: the window length for streams
    (`xml`, language models, continual `reber`); the truncation length for
    `sentiment`, `trec` and `music`; the padded length for `memorization`,
    `arithmetic` and separate `reber` strings (at least their longest
    example; shrink those with their options); `adding` and `copy` take
    their length from their options only.

    Example:
    >>> import archsearch.tasks as tasks
    >>> task = tasks.get("memorization")
    >>> data = task.load(seed=0, num_examples=64, batch_size=16)
    >>> data.output, data.num_batches["train"], data.vocab[:3]
    ('sequence', 4, ('<pad>', '=', 'a'))
    """

    name: ClassVar[str]
    kind: ClassVar[str]
    source: ClassVar[str]
    size: ClassVar[str]
    output: ClassVar[str] = "sequence"
    input_kind: ClassVar[str] = "tokens"
    loss: ClassVar[str] = "sparse_categorical_crossentropy"
    metrics: ClassVar[tuple[str, ...]] = ("accuracy",)
    score_metric: ClassVar[str] = "accuracy"
    score_mode: ClassVar[str] = "max"
    default_batch_size: ClassVar[int] = 32
    options: ClassVar[Mapping[str, Any]] = {}

    @property
    def metric(self) -> str:
        """The headline metric (first of `metrics`)."""
        return self.metrics[0]

    def describe(self) -> dict[str, str]:
        """One row for `archsearch tasks list`: name, kind, source, size, metric."""
        return {
            "name": self.name,
            "kind": self.kind,
            "source": self.source,
            "size": self.size,
            "metric": ", ".join(self.metrics),
        }

    def load(
        self,
        seed: int = 0,
        fraction: float = 1.0,
        seq_len: int | None = None,
        batch_size: int | None = None,
        **options: Any,
    ) -> TaskData:
        """Builds the train/valid/test pipelines.

        Args:
            seed: seeds generated training data and the training shuffle order
                (stateful streams are never shuffled). Validation/test data and
                real-data splits never depend on it.
            fraction: keep this fraction (0, 1] of every split, for quick runs.
            seq_len: time steps per example; `None` for the task's default.
            batch_size: rows per batch; `None` for the task's default.
            **options: task-specific options, see the task's `options`.

        Returns:
            A `TaskData`.

        Raises:
            TaskError: a bad argument or an unavailable data source.
        """
        prepared = self.prepare(seed, fraction, seq_len, batch_size, **options)

        datasets = pipeline.build(prepared, seed=seed)
        labels = prepared.labels if prepared.labels is not None else prepared.vocab
        num_outputs = len(labels)
        return TaskData(
            name=self.name,
            **datasets,
            arrays=prepared.arrays,
            vocab=prepared.vocab,
            labels=labels,
            vocab_size=len(prepared.vocab),
            num_outputs=num_outputs,
            output=self.output,
            input_kind=self.input_kind,
            loss=self.loss,
            metrics=self.metrics,
            score_metric=self.score_metric,
            score_mode=self.score_mode,
            stateful=prepared.stateful,
            batch_size=prepared.batch_size,
            seq_len=prepared.seq_len,
            num_batches=pipeline.num_batches(prepared),
            info=dict(prepared.info),
            epochs=pipeline.epoch_orders(prepared, seed=seed),
            chrono_tmax=prepared.chrono_tmax,
            metric_options=dict(prepared.metric_options),
        )

    def prepare(
        self,
        seed: int = 0,
        fraction: float = 1.0,
        seq_len: int | None = None,
        batch_size: int | None = None,
        **options: Any,
    ) -> Prepared:
        """Like `load`, but returns numpy arrays (`Prepared`); imports no TensorFlow."""
        _check_int("seed", seed, minimum=0)
        if isinstance(fraction, bool) or not isinstance(fraction, int | float):
            raise TaskError(f"Expected fraction in (0, 1]. Received: fraction={fraction!r}")
        if not 0.0 < fraction <= 1.0:
            raise TaskError(f"Expected fraction in (0, 1]. Received: fraction={fraction!r}")
        if seq_len is not None:
            _check_int("seq_len", seq_len, minimum=1)
        batch_size = self.default_batch_size if batch_size is None else batch_size
        _check_int("batch_size", batch_size, minimum=1)
        unknown = sorted(set(options) - set(self.options))
        if unknown:
            known = ", ".join(sorted(self.options)) or "none"
            raise TaskError(
                f"Task {self.name!r} has no option {unknown[0]!r}; its options are: {known}. "
                f"Received: {unknown[0]}={options[unknown[0]]!r}"
            )
        merged = {**self.options, **options}
        return self._prepare(seed, float(fraction), seq_len, batch_size, **merged)

    @abc.abstractmethod
    def _prepare(
        self, seed: int, fraction: float, seq_len: int | None, batch_size: int, **options: Any
    ) -> Prepared:
        """Builds the arrays; arguments are already checked and defaulted."""

    def __repr__(self) -> str:
        return f"<Task {self.name!r} ({self.kind})>"


def _check_int(name: str, value: Any, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise TaskError(
            f"Expected {name} to be an integer >= {minimum}. Received: {name}={value!r}"
        )


def scaled(count: int, fraction: float) -> int:
    """`count * fraction` rounded up, at least 1: the size of a shrunk split."""
    return max(1, math.ceil(count * fraction))


def check_option_int(task: str, name: str, value: Any, minimum: int, maximum: int | None = None):
    """Raises `TaskError` unless option `name` is an int in [minimum, maximum]."""
    ok = not isinstance(value, bool) and isinstance(value, int | np.integer) and value >= minimum
    if ok and maximum is not None:
        ok = value <= maximum
    if not ok:
        bound = f">= {minimum}" if maximum is None else f"in [{minimum}, {maximum}]"
        raise TaskError(
            f"Task {task!r} expects option {name} to be an integer {bound}. "
            f"Received: {name}={value!r}"
        )
    return int(value)
