"""Tasks: the paper's generated problems and real-data loaders, as `tf.data`.

>>> import archsearch.tasks as tasks
>>> data = tasks.get("arithmetic").load(seed=0, num_examples=100, batch_size=10)
>>> inputs, targets, sample_weight = next(iter(data.train))

Importing this package does not import TensorFlow nor touch the network;
`Task.load` does what it needs, when called.
"""

from archsearch.tasks.base import Task, TaskData, TaskError
from archsearch.tasks.metrics import (
    bits_per_char,
    exact_match,
    nll_per_step,
    perplexity,
    weighted_accuracy,
)
from archsearch.tasks.prepared import OUTPUT_KINDS, PAD_ID, SPLITS, Prepared
from archsearch.tasks.registry import describe, get, names, register

__all__ = [
    "OUTPUT_KINDS",
    "PAD_ID",
    "SPLITS",
    "Prepared",
    "Task",
    "TaskData",
    "TaskError",
    "bits_per_char",
    "describe",
    "exact_match",
    "get",
    "names",
    "nll_per_step",
    "perplexity",
    "register",
    "weighted_accuracy",
]
