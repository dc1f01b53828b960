"""Do the tasks and the trainer work? Cells vs chance on each task, several seeds.

Trains LSTM (Keras-style, forget bias 1: `lstm_b`) and GRU on arithmetic, xml,
word_lm and sentiment with a fixed small budget and several seeds, and
`lstm_f`, `tanh_rnn` and `lstm_b` on arithmetic (the paper: LSTM-f and tanh
far behind). Chance is the accuracy of always predicting the most frequent
target of the validation split (weighted like the metric). Prints a Markdown
table: mean and min..max of validation accuracy over seeds.

    python benchmarks/task_evidence.py --seeds 0 1 2 --steps 300
"""

from __future__ import annotations

import argparse
import collections
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

from archsearch import tasks  # noqa: E402
from archsearch.training import Budget, run_trial  # noqa: E402

TASKS = {
    "arithmetic": {"max_digits": 3, "max_distractors": 1, "num_examples": 8000,
                   "batch_size": 32},
    "xml": {"num_examples": 2000, "batch_size": 32},
    "word_lm": {"fraction": 0.25},
    "sentiment": {"batch_size": 32},
}
RUNS = [(cell, task) for task in TASKS for cell in ("lstm_b", "gru")] + \
    [(cell, "arithmetic") for cell in ("lstm_f", "tanh_rnn")]
HPARAMS = {"units": 64, "optimizer": "adam", "learning_rate": 0.01, "clip_norm": 5.0}


def chance(data) -> float:
    """Accuracy of always predicting the most frequent (weighted) valid target."""
    _, targets, weights = data.arrays["valid"]
    counts = collections.Counter()
    for t, w in zip(np.ravel(targets), np.ravel(weights), strict=True):
        if w > 0:
            counts[int(t)] += float(w)
    return max(counts.values()) / sum(counts.values())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--steps", type=int, default=300)
    args = parser.parse_args()
    data = {name: tasks.get(name).load(seed=0, **options) for name, options in TASKS.items()}
    scores = collections.defaultdict(list)
    start = time.perf_counter()
    for seed in args.seeds:
        for cell, task in RUNS:
            result = run_trial(cell, HPARAMS, task, Budget(steps=args.steps,
                                                           eval_every=args.steps // 3),
                               seed=seed, data=data[task])
            value = result.metrics["valid"]["accuracy"] if result.status == "completed" \
                else float("nan")
            scores[cell, task].append(value)
            print(f"seed {seed} {cell:9s} {task:11s} valid accuracy {value:.3f} "
                  f"({result.timings['total']:.0f} s) {result.failure or ''}", flush=True)
    print(f"\n{args.steps} steps per trial, units 64, Adam 0.01, seeds {args.seeds}; "
          f"{time.perf_counter() - start:.0f} s in all\n")
    print("| task | chance | cell | valid accuracy, mean | min..max |")
    print("|---|---:|---|---:|---|")
    for cell, task in RUNS:
        values = scores[cell, task]
        print(f"| {task} | {chance(data[task]):.3f} | {cell} | {statistics.mean(values):.3f} | "
              f"{min(values):.3f}..{max(values):.3f} |")


if __name__ == "__main__":
    main()
