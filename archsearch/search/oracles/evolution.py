"""The `evolution` strategy: the paper's top-N procedure."""

from __future__ import annotations

from archsearch.search.oracles.mutating import MutatingOracle

__all__ = ["EvolutionOracle"]


class EvolutionOracle(MutatingOracle):
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
        fp = cell.fingerprint
        if cell.score is None or fp in self.top and cell.origin != "reevaluation":
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
