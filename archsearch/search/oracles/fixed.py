"""The `fixed` strategy: a listed set of cells, the same hyperparameter samples for each."""

from __future__ import annotations

import random

from archsearch.search.oracles.base import ArchitectureOracle

__all__ = ["FixedListOracle"]


class FixedListOracle(ArchitectureOracle):
    """Ablation studies: every listed cell x K hyperparameter samples x every task.

    No mutation and no cuts: every cell is trained on every task. The K
    samples of a task (and the seeds of each) are the same for every cell: a
    comparison of two cells is matched, setting by setting, instead of
    depending on which learning rates each cell happened to draw. Samples are
    drawn once per task from the search seed, without repeating a setting
    while the grid has unused ones; `sample` is their index (1..K).

    Example:
        >>> import archsearch
        >>> space = archsearch.load_search_space("search_spaces/lstm_ablations.yaml")
        >>> oracle = FixedListOracle(space)
        >>> oracle.populate_space("0")["values"]["task"] in [t.name for t in space.tasks]
        True
    """

    strategy = "fixed"
    apply_cuts = False

    def propose(self):
        if not hasattr(self, "_listed"):
            self._listed = self.space.cells()
        return [(g, "fixed", None) for g in self._listed if g.fingerprint() not in self.cells]

    def common_samples(self, task: str) -> list[dict]:
        """The task's hyperparameter samples, shared by every cell (deterministic).

        Latin-hypercube style over the grid: each hyperparameter cycles through
        its values in a shuffled order, so K samples of a 3-value learning-rate
        grid use each value K/3 times instead of, by chance, one value K times.
        """
        cache = self.__dict__.setdefault("_common", {})
        if task not in cache:
            rng = random.Random(f"{self.search_seed}:{task}")
            k = self._samples(task)
            columns = {}
            for hp in self.hyperparameters.space:
                values = list(getattr(hp, "values", None) or [hp.random_sample(rng.randrange(2**31))
                                                               for _ in range(k)])
                rng.shuffle(values)
                column = [values[i % len(values)] for i in range(k)]
                rng.shuffle(column)
                columns[hp.name] = column
            cache[task] = [{name: column[i] for name, column in columns.items()}
                           for i in range(k)]
        return cache[task]

    def stage_trials(self, cell, task):
        """The task's `common_samples` (ids 1..K), each with every seed of the task.

        A trial's seed index depends only on (task, sample, seed), never on
        the cell: 1 + 100,000 x the task's position + sample x seeds + seed.
        """
        seeds = self._seeds(task)
        offset = 1 + 100_000 * list(self.tasks).index(task)
        trials = []
        for k, hparams in enumerate(self.common_samples(task)):
            for s in range(seeds):
                index = offset + k * seeds + s
                # This strategy draws nothing from `_seed_state`, but the state saves
                # it: kept at the highest index queued, it equals the value rebuilt
                # from the records (their highest seed index, `OracleState._restore`).
                self._seed_state = max(self._seed_state, index)
                trials.append((hparams, k + 1, self._trial_seed(index)))
        return trials

    def refill(self):
        # All cells at once, in the listed order: deterministic trial order.
        for genome, origin, parent in self.propose():
            self.evaluate(genome, origin, parent)
        if self.baseline_fp not in self.cells:
            self.evaluate(self.space.baseline_genome(), "baseline", cuts=False)
