"""Which trials can train together as one population, and how many at once.

`population_groups` splits trial configs (as the search executor builds
them) into groups that `run_population` accepts: same cell, task, task
options, budget and shapes, at most K per group, in the configs' order.
`auto_k` is the K that pays off on a CPU for a hidden size and table.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from archsearch.training.hparams import resolve
from archsearch.training.population import SHARED_KEYS

__all__ = ["auto_k", "population_groups"]

# (largest units, K) for a table that folds (fewer rows than a batch has
# tokens): speedup of K stacked LSTMs over the same K trained one by one as
# `run_trial` trains them today (XLA up to 128 units, the fold from 128),
# per CPU-second, one TensorFlow thread (what a 1-CPU search worker runs),
# median [min-max] of 3 repeats (`benchmarks/population_throughput.py
# --threads 1`, arithmetic, a 40-row table):
#   units 32:  K=2 1.46 [1.21-1.47], K=4 1.96 [1.82-1.99], K=8 2.11 [1.82-2.48]
#   units 64:  K=2 1.31 [1.26-1.50], K=4 1.62 [1.25-1.77], K=8 1.15 [1.00-1.57]
#   units 128: K=2 1.10 [1.00-1.24], K=4 0.99 [0.98-1.13], K=8 1.03 [0.91-1.14]
#   units 256: K=2 0.96 [0.94-1.02], K=4 1.07 [0.91-1.11], K=8 0.93 [0.91-0.98]
# A table that does not fold (trec: 7,360 words against ~1,200 tokens a
# batch) gains nothing at any size: units 32 K=2 0.97 [0.91-1.17], K=4 0.99
# [0.86-1.02], K=8 1.03 [0.97-1.24]; units 64 K=2-8 0.92-1.01; units 128
# K=2-8 0.78-0.94; units 256 K=2-8 0.82-1.04: those train one by one (K=1),
# never below 0.95x one-by-one.
_K_FOLDED = ((32, 8), (64, 4), (128, 2))


def auto_k(units: int | None, vocab_size: int | None = None,
           tokens: int | None = None) -> int:
    """Population size that is fastest per sample (1: train one by one).

    Args:
        units: The members' hidden size (None: sized by a parameter budget,
            unknown until built: 1).
        vocab_size: Rows of the task's embedding table (None: not known yet,
            as on a search's driver; the largest K the table may allow).
        tokens: Tokens in one batch (batch size x steps).

    Example:
        >>> [auto_k(u) for u in (32, 64, 128, 256)]
        [8, 4, 2, 1]
        >>> auto_k(64, vocab_size=40, tokens=416), auto_k(64, vocab_size=7360, tokens=1184)
        (4, 1)
    """
    if units is None:
        return 1  # sized by a parameter budget: shapes unknown until built
    if isinstance(units, bool) or not isinstance(units, int) or units <= 0:
        raise ValueError(f"Expected units to be a positive integer. Received: units={units!r}")
    if vocab_size is not None and (tokens is None or vocab_size >= tokens):
        return 1  # the table does not fold: measured no faster than one by one
    for largest, k in _K_FOLDED:
        if units <= largest:
            return k
    return 1


def _canonical(value) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _key(config: Mapping[str, Any], plan: Mapping[str, Any] | None):
    hp = resolve(config.get("hparams"))
    task = config["task"]
    spec = (plan or {}).get(task, {})
    options = config.get("task_options", spec.get("options"))
    budget = config.get("budget", spec.get("budget"))
    cell = config.get("fingerprint") or _fingerprint(config["genome"])
    shapes = tuple(hp[k] for k in SHARED_KEYS if not (k == "param_budget" and hp["units"]))
    return (cell, task, _canonical(options), _canonical(budget), shapes), hp


def _fingerprint(genome) -> str:
    from archsearch.genome import Genome
    from archsearch.zoo import get

    if isinstance(genome, Genome):
        return genome.fingerprint()
    if isinstance(genome, str) and not genome.lstrip().startswith("{"):
        return get(genome).fingerprint()
    return Genome.from_json(genome if isinstance(genome, str) else json.dumps(genome)
                            ).fingerprint()


def population_groups(configs: Iterable[Mapping[str, Any]], max_k: int | None = None,
                      plan: Mapping[str, Any] | None = None) -> list[list[Mapping[str, Any]]]:
    """Groups compatible trial configs into populations of at most K.

    Compatible: same cell fingerprint, task, task options, budget, and the
    shared hyperparameters (`units` or `param_budget`, `num_layers`,
    `optimizer`, `dropout`). Trials with dropout always train alone.

    Args:
        configs: Trial configs with `task`, `hparams`, `fingerprint` (or
            `genome`), and `task_options` / `budget` (or a `plan`).
        max_k: Most members per group; `None` uses `auto_k(units)`.
        plan: Task name -> `{"options": ..., "budget": ...}` (the executor's plan).

    Returns:
        Groups (lists of the given configs) in order of their first member;
        members keep their order.

    Example:
        >>> configs = [{"task": "xml", "genome": cell, "hparams": {"units": 32,
        ...             "learning_rate": lr}} for cell, lr in
        ...            [("gru", 0.1), ("gru", 0.2), ("gru", 0.5), ("lstm", 0.1)]]
        >>> [len(g) for g in population_groups(configs, max_k=2)]
        [2, 1, 1]
    """
    if max_k is not None and (isinstance(max_k, bool) or not isinstance(max_k, int)
                              or max_k < 1):
        raise ValueError(f"Expected max_k to be a positive integer or None. "
                         f"Received: max_k={max_k!r}")
    open_groups: dict[Any, list] = {}
    groups: list[list] = []
    for config in configs:
        key, hp = _key(config, plan)
        limit = 1 if hp["dropout"] else (max_k if max_k is not None else auto_k(hp["units"]))
        group = open_groups.get(key)
        if group is None or len(group) >= limit:
            group = open_groups[key] = []
            groups.append(group)
        group.append(config)
    return groups

