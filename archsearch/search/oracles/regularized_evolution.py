"""The `regularized_evolution` strategy: aging evolution (Real et al. 2019)."""

from __future__ import annotations

from archsearch.search.oracles.cells import CellStatus
from archsearch.search.oracles.mutating import MutatingOracle

__all__ = ["RegularizedEvolutionOracle"]


class RegularizedEvolutionOracle(MutatingOracle):
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
        alive = [fp for fp in self.population if self.cells[fp].status == CellStatus.DONE]
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
        if cell.origin == "baseline":
            return
        self.population.append(cell.fingerprint)
        if len(self.population) > self.space.strategy.population:
            self.population.pop(0)  # the oldest dies, however good

    def kept(self):
        return set(self.population)

    def strategy_state(self):
        return {"population": list(self.population)}

    def set_strategy_state(self, state):
        self.population = list(state.get("population", []))

    def rebuild_strategy(self, finished):
        alive = [fp for fp in finished if self.cells[fp].origin != "baseline"
                 and fp != self.baseline_fp]
        self.population = alive[len(alive) - self.space.strategy.population:] \
            if len(alive) > self.space.strategy.population else alive
