"""The architecture-search strategies: each decides only which cells come next."""

from __future__ import annotations

import random

from archsearch.genome import GenomeError
from archsearch.search.oracles.base import ArchitectureOracle

__all__ = ["FixedListOracle", "EvolutionOracle", "RegularizedEvolutionOracle",
           "RandomArchitectureOracle"]


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

    def _stage_trials(self, cell, task):
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

    def _refill(self):
        # All cells at once, in the listed order: deterministic trial order.
        for genome, origin, parent in self.propose():
            self.evaluate(genome, origin, parent)
        if self.baseline_fp not in self.cells:
            self.evaluate(self.space.baseline_genome(), "baseline", cuts=False)


class _Mutating(ArchitectureOracle):
    """Shared by the mutating strategies: seeds first, then children."""

    def evaluate(self, genome, origin, parent=None, stages=None, cuts=None):
        if origin == "seed":  # seeds are references: no pre-filter, no cut
            return super().evaluate(genome, origin, stages=self.search_stages
                                    + self.report_stages, cuts=False)
        return super().evaluate(genome, origin, parent, stages, cuts)

    def __init__(self, space, **kwargs):
        super().__init__(space, **kwargs)
        self.seed_cells = {g.fingerprint(): g for g in space.seed_genomes()}
        self._mutator = space.mutator()

    def _seeds_pending(self) -> list:
        return [g for fp, g in self.seed_cells.items() if fp not in self.cells]

    def mutant(self, parent_fp: str, rng, chain: int = 1):
        """A child of `parent_fp` never evaluated before in this run, or None."""
        from archsearch.genome import Genome

        mutator = self._mutator
        for _ in range(20):
            genome = Genome.from_dict(self.genomes[parent_fp])
            try:
                for _ in range(chain):
                    genome = mutator(genome, rng.randrange(2**31))
            except GenomeError:
                continue
            if genome.fingerprint() not in self.cells:
                return genome.with_name(None)
        return None


class EvolutionOracle(_Mutating):
    """The paper's procedure: a top-N list seeded with the seed cells.

    Each step either re-evaluates a random listed cell on new hyperparameter
    samples, or mutates a random listed cell; a child already evaluated (same
    fingerprint) is skipped; a new child passes the memorization pre-filter,
    then the search tasks in order, cut below `min_ratio` of the baseline;
    survivors are scored by their minimum ratio to the baseline and enter the
    top-N if good enough.
    """

    strategy = "evolution"

    def __init__(self, space, **kwargs):
        super().__init__(space, **kwargs)
        self.top: list[str] = []

    def propose(self):
        seeds = self._seeds_pending()
        if seeds:
            return [(g, "seed", None) for g in seeds]
        if not self.top:
            return []  # wait for the seeds' scores
        rng = self.rng()
        parent = rng.choice(self.top)
        if rng.random() < self.space.strategy.reevaluate_probability:
            genome = self.genomes[parent]
            from archsearch.genome import Genome
            return [(Genome.from_dict(genome), "reevaluation", parent)]
        child = self.mutant(parent, rng)
        return [] if child is None else [(child, "mutation", parent)]

    def evaluate(self, genome, origin, parent=None, stages=None, cuts=None):
        if origin == "reevaluation":
            return super().evaluate(genome, origin, parent, stages=list(self.search_stages),
                                    cuts=False)
        return super().evaluate(genome, origin, parent, stages, cuts)

    def on_cell_scored(self, cell):
        fp = cell["fingerprint"]
        if cell["score"] is None or fp in self.top and cell["origin"] != "reevaluation":
            return
        if fp not in self.top:
            self.top.append(fp)
        self.top.sort(key=lambda f: -(self.score(f) or 0.0))
        del self.top[self.space.strategy.top_n:]

    def kept(self):
        return set(self.top)

    def strategy_state(self):
        return {"top": list(self.top)}

    def set_strategy_state(self, state):
        self.top = list(state.get("top", []))

    def rebuild_strategy(self, finished):
        ranked = sorted(self._scores, key=lambda fp: -self._scores[fp])
        self.top = ranked[:self.space.strategy.top_n]


class RegularizedEvolutionOracle(_Mutating):
    """Aging evolution (Real et al. 2019), scored like the paper.

    The population starts with the seed cells and is filled with their
    mutants; then each cycle samples `sample_size` members, mutates the best,
    adds the child and drops the oldest member.
    """

    strategy = "regularized_evolution"

    def __init__(self, space, **kwargs):
        super().__init__(space, **kwargs)
        self.population: list[str] = []

    def propose(self):
        seeds = self._seeds_pending()
        if seeds:
            return [(g, "seed", None) for g in seeds]
        alive = [fp for fp in self.population if self.cells[fp]["status"] == "done"]
        if not alive:
            return []
        rng = self.rng()
        if len(self.cells) - 1 < self.space.strategy.population:
            parent = rng.choice(alive)  # filling the initial population
        else:
            sample = rng.sample(alive, min(self.space.strategy.sample_size, len(alive)))
            parent = max(sample, key=lambda fp: self.score(fp) or 0.0)
        child = self.mutant(parent, rng)
        return [] if child is None else [(child, "mutation", parent)]


    def on_cell_scored(self, cell):
        if cell["origin"] == "baseline":
            return
        self.population.append(cell["fingerprint"])
        if len(self.population) > self.space.strategy.population:
            self.population.pop(0)  # the oldest dies, however good

    def kept(self):
        return set(self.population)

    def strategy_state(self):
        return {"population": list(self.population)}

    def set_strategy_state(self, state):
        self.population = list(state.get("population", []))

    def rebuild_strategy(self, finished):
        alive = [fp for fp in finished if self.cells[fp]["origin"] != "baseline"
                 and fp != self.baseline_fp]
        self.population = alive[len(alive) - self.space.strategy.population:] \
            if len(alive) > self.space.strategy.population else alive


class RandomArchitectureOracle(_Mutating):
    """The baseline evolution must beat: chains of `mutations` random mutations.

    Each candidate is a random seed cell mutated several times in a row, then
    evaluated exactly like an evolution child; nothing is selected.
    """

    strategy = "random"

    def propose(self):
        seeds = self._seeds_pending()
        if seeds:
            return [(g, "seed", None) for g in seeds]
        rng = self.rng()
        root = rng.choice(list(self.seed_cells))
        child = self.mutant(root, rng, chain=self.space.strategy.mutations)
        return [] if child is None else [(child, "mutation", root)]

    def kept(self):
        return set(self.seed_cells)


def _oracles() -> dict[str, type]:
    """The oracle class of every registered strategy, by name (`archsearch.space.registry`)."""
    from archsearch.space import schema  # noqa: F401  (registers the built-in strategies)
    from archsearch.space.registry import strategies

    oracles = {}
    for name, entry in strategies().items():
        oracle = entry.load_oracle()
        if getattr(oracle, "strategy", name) != name:
            raise ValueError(f"expected the oracle of strategy {name!r} to declare "
                             f"strategy = {name!r}. Received: {entry.oracle}.strategy="
                             f"{oracle.strategy!r}")
        oracles[name] = oracle
    return oracles


#: The oracle class of each search strategy, by `strategy.name`, from the
#: strategy registry (each strategy's parameter model names its oracle there).
ORACLES = _oracles()
