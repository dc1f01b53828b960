"""Which trials can train together as one population, and how many at once.

`population_groups` splits trial configs (as the search executor builds
them) into groups that `run_population` accepts: same cell, task, task
options, budget and shapes, at most K per group, in the configs' order.
`auto_k` is the K that pays off on a CPU for a hidden size.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from archsearch.training.hparams import resolve
from archsearch.training.population import SHARED_KEYS

__all__ = ["auto_k", "population_groups"]

# (largest units, K): measured speedups of K stacked LSTMs over the same K
# one after another, per CPU-second, with one TensorFlow thread (what a 1-CPU
# search worker runs), XLA on, median of 3 (min-max)
# (`benchmarks/population_throughput.py --threads 1`, quickstart task):
# units 32 K=4 3.2x (2.5-4.0), K=16 3.4x (2.7-3.6); units 64 K=2..8 1.6-1.9x,
# K=4 1.6x and 1.9x in two runs, K=16 1.55x; units 128 K=4 1.02x (1.02-1.05),
# K=8 1.07x (0.99-1.10), K=16 1.00x (0.93-1.01); units 256 K=4 0.93x (slower).
_K_BY_UNITS = ((32, 16), (128, 4))


def auto_k(units: int | None) -> int:
    """Population size that is fastest per sample for `units` (1: train alone).

    Example:
        >>> [auto_k(u) for u in (32, 64, 128, 256)]
        [16, 4, 4, 1]
    """
    if units is None:
        return 1  # sized by a parameter budget: shapes unknown until built
    if isinstance(units, bool) or not isinstance(units, int) or units <= 0:
        raise ValueError(f"Expected units to be a positive integer. Received: units={units!r}")
    for largest, k in _K_BY_UNITS:
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

