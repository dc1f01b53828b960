"""The `random` strategy: random architecture search, the control of a search."""

from __future__ import annotations

from archsearch.search.oracles.mutating import MutatingOracle

__all__ = ["RandomArchitectureOracle"]


class RandomArchitectureOracle(MutatingOracle):
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
